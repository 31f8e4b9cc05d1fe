//! Redis lost while serving: calls fail with 503, and work again once Redis
//! is back, with no restart of the app. The test runs its own throwaway
//! `redis-server` on a free port (never the shared one) and stops it by
//! its own child handle.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use microcore::ErrorKind;
use microcore_state::{State, StateSettings, StateUrl};

/// A `redis-server` this test started; killed when dropped.
struct OwnRedis {
    child: Child,
}

impl OwnRedis {
    fn start(port: u16) -> Self {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server on PATH");
        Self { child }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

/// Retries `connect` until the fresh server accepts (it takes a moment to start).
async fn connect(url: &str) -> State {
    let settings = StateSettings {
        url: StateUrl::parse(url).unwrap(),
        prefix: "reconnect-test:".into(),
        ..StateSettings::default()
    };
    for _ in 0..100 {
        if let Ok(state) = State::connect(&settings).await {
            return state;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the test's own redis-server never accepted connections");
}

#[tokio::test]
async fn a_lost_redis_is_a_503_until_it_comes_back() {
    let port = free_port();
    let url = format!("redis://127.0.0.1:{port}");
    let mut server = OwnRedis::start(port);
    let state = connect(&url).await;
    state.set("k", "before", None).await.unwrap();

    server.stop();
    // The first call after the loss may be the one that notices it; every
    // call while Redis is down must be a 503, never a 500 or a hang.
    for _ in 0..3 {
        let e = state.get("k").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unavailable, "{}", e.chain());
        assert_eq!(e.kind(), microcore::ErrorKind::Unavailable);
    }
    assert_eq!(
        state
            .incr("n", 1, Some(Duration::from_secs(5)))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Unavailable
    );
    assert_eq!(
        state.ping().await.unwrap_err().kind(),
        ErrorKind::Unavailable
    );

    let _server = OwnRedis::start(port);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let back = loop {
        match state.get("k").await {
            Ok(value) => break value,
            Err(e) if tokio::time::Instant::now() < deadline => {
                assert_eq!(e.kind(), ErrorKind::Unavailable, "{}", e.chain());
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("Redis came back but the state never did: {}", e.chain()),
        }
    };
    // The new server starts empty (no persistence): the handle reconnected.
    assert_eq!(back, None);
    state.set("k", "after", None).await.unwrap();
    assert_eq!(state.get("k").await.unwrap().as_deref(), Some("after"));
    state.ping().await.unwrap();
}
