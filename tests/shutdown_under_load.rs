//! SIGTERM while registrations are in flight, on the real binary: the
//! listener closes at once (new connections are refused), every request
//! already being handled still completes with a 2xx, and the process then
//! exits 0.
//!
//! "In flight" is proved, not hoped for: each request announces its body
//! with `Expect: 100-continue`, and the server's `100 Continue` comes only
//! once the handler reads that body. The bodies are sent after the signal.

mod support;

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const IN_FLIGHT: usize = 24;

/// A registration whose handler is waiting for the body.
struct Pending {
    stream: TcpStream,
    body: String,
}

async fn start_registration(addr: &str, i: usize) -> Pending {
    let body = format!(r#"{{"name":"U{i}","email":"u{i}@example.com","password":"password{i}"}}"#);
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(30), stream.read(&mut buf))
        .await
        .expect("100 Continue within 30 s")
        .unwrap();
    let interim = String::from_utf8_lossy(&buf[..n]);
    assert!(interim.starts_with("HTTP/1.1 100"), "{interim}");
    Pending { stream, body }
}

impl Pending {
    /// Sends the body and returns the final answer.
    async fn finish(mut self) -> String {
        self.stream.write_all(self.body.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        tokio::time::timeout(
            Duration::from_secs(30),
            self.stream.read_to_end(&mut answer),
        )
        .await
        .expect("an answer within 30 s")
        .unwrap();
        String::from_utf8_lossy(&answer).into_owned()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_completes_requests_in_flight_refuses_new_ones_and_exits_zero() {
    let (mut app, _dir) = support::start_app(&[]);
    let addr = app.base.trim_start_matches("http://").to_string();
    let pending =
        futures::future::join_all((0..IN_FLIGHT).map(|i| start_registration(&addr, i))).await;

    support::signal(&app, "TERM");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match TcpStream::connect(&addr).await {
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => break,
            Err(e) => panic!("unexpected connect error: {e}"),
            Ok(_) => {
                assert!(
                    Instant::now() < deadline,
                    "new connections still accepted 10 s after SIGTERM"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
    assert!(
        app.child.try_wait().unwrap().is_none(),
        "the app waits for its requests in flight"
    );

    let answers = futures::future::join_all(pending.into_iter().map(Pending::finish)).await;
    for (i, answer) in answers.iter().enumerate() {
        assert!(answer.starts_with("HTTP/1.1 201"), "request {i}: {answer}");
        assert!(
            answer.contains(&format!(r#""email":"u{i}@example.com""#)),
            "request {i}: {answer}"
        );
    }
    let status = support::wait_for_exit(&mut app, Duration::from_secs(20));
    assert!(status.success(), "exit status after SIGTERM: {status}");
}

/// Idle, the app exits within 300 ms of SIGTERM, even with a keep-alive
/// connection, a connection that sent half a request head and an event
/// stream open: nothing is in flight, so nothing is waited for.
#[tokio::test(flavor = "multi_thread")]
async fn an_idle_app_exits_within_300_ms_of_sigterm() {
    let (mut app, _dir) = support::start_app(&[]);
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut kept_alive = TcpStream::connect(&addr).await.unwrap();
    kept_alive
        .write_all(b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 512];
    let n = kept_alive.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    let mut half = TcpStream::connect(&addr).await.unwrap();
    half.write_all(b"GET /pi").await.unwrap();
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    stream
        .write_all(b"GET /system/events/stream HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let n = stream.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    let signalled = Instant::now();
    support::signal(&app, "TERM");
    let status = support::wait_for_exit(&mut app, Duration::from_secs(20));
    let took = signalled.elapsed();
    assert!(status.success(), "{status:?}");
    assert!(took <= Duration::from_millis(300), "exit took {took:?}");
}
