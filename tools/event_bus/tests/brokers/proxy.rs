//! A TCP proxy the test runs and can cut: the way to lose a broker
//! connection without stopping the shared server.
//!
//! While cut, established connections are closed and new ones are accepted
//! and closed at once (what a client sees from a server going away);
//! restored, it forwards again.

use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A proxy from a free local port to `target`.
#[derive(Debug)]
pub struct Proxy {
    pub port: u16,
    up: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Proxy {
    pub async fn start(target: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (up, _) = watch::channel(true);
        let task = tokio::spawn(accept(listener, target.to_string(), up.clone()));
        Self { port, up, task }
    }

    /// Closes every forwarded connection and refuses new ones.
    pub fn cut(&self) {
        self.up.send_replace(false);
    }

    /// Forwards again.
    pub fn restore(&self) {
        self.up.send_replace(true);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
        self.task.abort();
    }
}

async fn accept(listener: TcpListener, target: String, up: watch::Sender<bool>) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        if !*up.borrow() {
            drop(client);
            continue;
        }
        let mut cut = up.subscribe();
        let target = target.clone();
        tokio::spawn(async move {
            let Ok(server) = TcpStream::connect(&target).await else {
                return;
            };
            let (mut client, mut server) = (client, server);
            tokio::select! {
                _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                _ = cut.wait_for(|up| !*up) => {}
            }
        });
    }
}
