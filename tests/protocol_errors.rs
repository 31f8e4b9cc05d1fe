//! Protocol errors over a real TCP socket against the booted binary: the
//! ones the app answers carry the JSON envelope and the request id (a
//! request target past `HTTP_MAX_URI_BYTES` → 414, header fields past
//! `HTTP_MAX_HEADER_BYTES` → 431, a body whose framing hyper rejects
//! while the handler reads it → 400), and the ones hyper answers itself
//! are what docs/http.md says (an empty 400, 414 or 431, then a close).

mod support;

use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One answer read off the socket.
#[derive(Debug)]
struct Answer {
    status: u16,
    head: String,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    /// The JSON envelope of an error, checked.
    fn envelope(&self) -> Value {
        assert_eq!(
            self.header("content-type"),
            Some("application/json"),
            "{self:#?}"
        );
        assert!(self.header("x-request-id").is_some(), "{self:#?}");
        let body: Value =
            serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {self:#?}"));
        assert_eq!(body["success"], false, "{body}");
        assert!(body["error"].is_string(), "{body}");
        body
    }
}

/// Writes `request` (then half-closes when `close` says so: a body cut
/// short) and reads the answer until the server closes or 10 s pass.
async fn exchange(base: &str, request: &[u8], close: bool) -> Answer {
    let mut stream = TcpStream::connect(base.trim_start_matches("http://"))
        .await
        .unwrap();
    // A write the server cuts short (it answered early) is fine.
    let _ = stream.write_all(request).await;
    if close {
        let _ = stream.shutdown().await;
    }
    let mut raw = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        let mut chunk = [0u8; 4096];
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => raw.extend_from_slice(&chunk[..n]),
            }
            if complete(&raw) {
                break;
            }
        }
    })
    .await;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    Answer {
        status,
        head: head.to_string(),
        body: body.to_string(),
    }
}

/// Whether `raw` holds a whole answer with a `content-length` body.
fn complete(raw: &[u8]) -> bool {
    let text = String::from_utf8_lossy(raw);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return false;
    };
    head.lines()
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .is_some_and(|len| body.len() >= len)
}

fn get_with(target: &str, headers: &str) -> Vec<u8> {
    format!("GET {target} HTTP/1.1\r\nHost: x\r\n{headers}Connection: close\r\n\r\n").into_bytes()
}

#[tokio::test(flavor = "multi_thread")]
async fn head_limits_answer_414_and_431_with_the_envelope() {
    let (mut app, _dir) = support::start_app(&[
        ("HTTP_MAX_URI_BYTES", "1KiB"),
        ("HTTP_MAX_HEADER_BYTES", "4KiB"),
    ]);
    let base = app.base.clone();

    let fits = exchange(
        &base,
        &get_with(&format!("/ping?q={}", "a".repeat(900)), ""),
        false,
    )
    .await;
    assert_eq!(fits.status, 200, "{fits:#?}");

    let long = exchange(
        &base,
        &get_with(&format!("/ping?q={}", "a".repeat(2000)), ""),
        false,
    )
    .await;
    assert_eq!(long.status, 414, "{long:#?}");
    assert_eq!(long.envelope()["error"], "Request URI too long");

    let heavy_headers: String = (0..8)
        .map(|i| format!("X-Filler-{i}: {}\r\n", "b".repeat(1000)))
        .collect();
    let heavy = exchange(&base, &get_with("/ping", &heavy_headers), false).await;
    assert_eq!(heavy.status, 431, "{heavy:#?}");
    assert_eq!(heavy.envelope()["error"], "Request header fields too large");

    // On a route that does not exist and with a method it does not take,
    // the limit still answers first, with the same envelope.
    let unknown = exchange(
        &base,
        &get_with(&format!("/nowhere/{}", "c".repeat(2000)), ""),
        false,
    )
    .await;
    assert_eq!(unknown.status, 414, "{unknown:#?}");
    unknown.envelope();

    // Far past the limits, hyper refuses the head itself (docs/http.md):
    // 431 with no body, then the connection closes.
    let huge_headers: String = (0..40)
        .map(|i| format!("X-Filler-{i}: {}\r\n", "d".repeat(2000)))
        .collect();
    let refused = exchange(&base, &get_with("/ping", &huge_headers), false).await;
    assert_eq!(refused.status, 431, "{refused:#?}");
    assert_eq!(refused.header("content-length"), Some("0"), "{refused:#?}");

    let ping = reqwest::get(format!("{base}/ping")).await.unwrap();
    assert_eq!(ping.status(), 200, "the app serves on");
    assert!(support::terminate(&mut app).success());
}

#[tokio::test(flavor = "multi_thread")]
async fn framing_errors_the_handler_meets_get_the_envelope() {
    let (mut app, _dir) = support::start_app(&[]);
    let base = app.base.clone();
    let post = |framing: &str, body: &str| {
        format!(
            "POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{framing}\r\n{body}"
        )
        .into_bytes()
    };

    // A chunk size that is not hex: hyper fails the body while the handler
    // reads it, and the app answers.
    let bad_chunk = exchange(
        &base,
        &post("Transfer-Encoding: chunked\r\n", "zz\r\n{}\r\n0\r\n\r\n"),
        false,
    )
    .await;
    assert_eq!(bad_chunk.status, 400, "{bad_chunk:#?}");
    assert_eq!(
        bad_chunk.envelope()["error"],
        "Could not read the request body"
    );

    // A body shorter than its Content-Length, the client done writing.
    let short = exchange(&base, &post("Content-Length: 100\r\n", "{\"email\":"), true).await;
    assert_eq!(short.status, 400, "{short:#?}");
    assert_eq!(short.envelope()["error"], "Could not read the request body");

    assert!(support::terminate(&mut app).success());
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_heads_are_refused_by_hyper_as_documented() {
    let (mut app, _dir) = support::start_app(&[]);
    let base = app.base.clone();
    // docs/http.md: hyper answers these before any route runs, with an
    // empty body and no request id, and closes the connection.
    for (what, request) in [
        (
            "a header line without a colon",
            "GET /ping HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n",
        ),
        (
            "an invalid Content-Length",
            "POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n",
        ),
        (
            "two different Content-Lengths",
            "POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        ),
        (
            "a space in the method",
            "GE T /ping HTTP/1.1\r\nHost: x\r\n\r\n",
        ),
    ] {
        let answer = exchange(&base, request.as_bytes(), false).await;
        assert_eq!(answer.status, 400, "{what}: {answer:#?}");
        assert_eq!(
            answer.header("content-length"),
            Some("0"),
            "{what}: {answer:#?}"
        );
        assert!(answer.body.is_empty(), "{what}: {answer:#?}");
    }
    assert!(support::terminate(&mut app).success());
}
