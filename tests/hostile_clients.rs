//! Clients that abuse the protocol, against the real binary: a flood of
//! headers and one huge header are refused at the protocol level (431 or
//! a closed connection, never a 5xx); a crowd of clients stalled mid-request
//! does not stop the app from serving everyone else, each is disconnected
//! after `HTTP_TIMEOUT_SECS` (a slow body with a 408), and none of them
//! holds up a SIGTERM.

mod support;

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Writes `request` (a write cut short by the server is fine) and returns
/// what the server answered before closing, or within 10 s.
async fn refused_answer(base: &str, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(base.trim_start_matches("http://"))
        .await
        .unwrap();
    let _ = stream.write_all(request).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

/// A protocol-level refusal: 431, or the connection closed with no answer.
fn assert_refused(answer: &str, what: &str) {
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 431"),
        "{what}: {answer:.200}"
    );
}

async fn assert_serves(base: &str) {
    let ping = reqwest::Client::new()
        .get(format!("{base}/ping"))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect("the app still answers");
    assert_eq!(ping.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn header_floods_are_refused_and_the_app_serves_on() {
    let (mut app, _dir) = support::start_app(&[]);
    let mut many = String::from("GET /ping HTTP/1.1\r\nHost: x\r\n");
    for i in 0..5000 {
        many.push_str(&format!("X-Flood-{i}: {i}\r\n"));
    }
    many.push_str("\r\n");
    assert_refused(
        &refused_answer(&app.base, many.as_bytes()).await,
        "5000 headers",
    );
    assert_serves(&app.base).await;

    let huge = format!(
        "GET /ping HTTP/1.1\r\nHost: x\r\nX-Huge: {}\r\n\r\n",
        "a".repeat(4 << 20)
    );
    assert_refused(
        &refused_answer(&app.base, huge.as_bytes()).await,
        "a 4 MiB header",
    );
    assert_serves(&app.base).await;
    assert!(
        support::terminate(&mut app).success(),
        "the app shuts down cleanly after the floods"
    );
}

/// `n` connections that send part of a request's head and stall.
async fn stalled_crowd(addr: &str, n: usize) -> Vec<TcpStream> {
    let mut stalled = Vec::new();
    for _ in 0..n {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"GET /ping HTTP/1.1\r\nHost: x\r\nX-Slow:")
            .await
            .unwrap();
        stalled.push(stream);
    }
    stalled
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_clients_are_timed_out_and_do_not_block_others() {
    let (mut app, _dir) = support::start_app(&[("HTTP_TIMEOUT_SECS", "2")]);
    let addr = app.base.trim_start_matches("http://").to_string();

    let stalled = stalled_crowd(&addr, 200).await;
    for _ in 0..5 {
        assert_serves(&app.base).await;
    }

    // A body announced and never sent: the request timeout answers 408.
    let mut slow_body = TcpStream::connect(&addr).await.unwrap();
    slow_body
        .write_all(
            b"POST /users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"name\":",
        )
        .await
        .unwrap();
    let mut answer = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(15), slow_body.read(&mut answer))
        .await
        .expect("the stalled body is timed out")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains(r#""success":false"#), "{answer}");

    // Whoever has not sent a whole head within HTTP_TIMEOUT_SECS is cut off.
    for mut stream in stalled {
        let mut rest = Vec::new();
        let closed = tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut rest))
            .await
            .expect("a stalled client is disconnected within 30 s");
        let rest = String::from_utf8_lossy(&rest);
        assert!(
            closed.is_err() || rest.is_empty() || rest.starts_with("HTTP/1.1 4"),
            "{rest}"
        );
    }
    assert_serves(&app.base).await;
    assert!(support::terminate(&mut app).success());
}

#[tokio::test(flavor = "multi_thread")]
async fn stalled_clients_do_not_hold_up_a_sigterm() {
    let (mut app, _dir) = support::start_app(&[("HTTP_TIMEOUT_SECS", "600")]);
    let addr = app.base.trim_start_matches("http://").to_string();
    let _stalled = stalled_crowd(&addr, 50).await;
    assert_serves(&app.base).await;
    let status = support::terminate(&mut app);
    assert!(status.success(), "{status}");
    let log: Vec<String> = app.logs.try_iter().collect();
    assert!(
        !log.iter().any(|l| l.contains("did not finish")),
        "the drain waited for clients that never sent a request: {log:#?}"
    );
}
