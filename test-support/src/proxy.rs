//! A TCP proxy a test (or the soak) can cut and restore, to take a shared
//! server (PostgreSQL, Redis, NATS) away from the app without stopping it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Forwards 127.0.0.1:`port` to `target` until cut.
///
/// ```no_run
/// # async fn f() {
/// use microcore_test_support::proxy::Proxy;
///
/// let redis = Proxy::start("127.0.0.1:6379").await;
/// // ... boot the app with STATE_URL=redis://127.0.0.1:{redis.port} ...
/// redis.cut(); // open connections drop, new ones are refused
/// redis.restore();
/// # }
/// ```
#[derive(Debug)]
pub struct Proxy {
    /// The local port the app is given instead of the server's.
    pub port: u16,
    cut: Arc<AtomicBool>,
    generation: watch::Sender<u64>,
}

impl Proxy {
    /// Starts forwarding to `target` (e.g. `127.0.0.1:5432`).
    ///
    /// # Panics
    /// When no local port can be bound.
    pub async fn start(target: &'static str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let cut = Arc::new(AtomicBool::new(false));
        let (generation, _) = watch::channel(0u64);
        let (is_cut, generations) = (cut.clone(), generation.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if is_cut.load(Ordering::SeqCst) {
                    drop(client); // refused: closed at once
                    continue;
                }
                let mut killed = generations.subscribe();
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(target).await else {
                        return;
                    };
                    let (mut client, mut server) = (client, server);
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = killed.changed() => {}
                    }
                });
            }
        });
        Self {
            port,
            cut,
            generation,
        }
    }

    /// Drops every open connection and refuses new ones.
    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        self.generation.send_modify(|g| *g += 1);
    }

    /// Accepts connections again.
    pub fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}
