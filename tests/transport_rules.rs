//! Transport rules of CONTRACT §1 checked on the real binary: CORS
//! (allowed, denied, preflight, credentials with `*` refused at boot), 405
//! with the envelope and `Allow`, `LOG_FORMAT=json` lines (the request id
//! on each line of a request), and where
//! settings come from (environment over `.env` over defaults).

mod support;

use std::process::{Command, Stdio};

use reqwest::header::{ACCESS_CONTROL_ALLOW_ORIGIN, ALLOW, ORIGIN};
use serde_json::Value;

/// Boots the binary in `dir` with `env`.
fn start_in(dir: &std::path::Path, env: &[(&str, &str)]) -> support::AppProcess {
    support::start_binary(env!("CARGO_BIN_EXE_microcore-app"), dir, env)
}

/// The `Access-Control-Allow-Origin` answered to a GET /ping from `origin`.
async fn allowed_origin(base: &str, origin: &str) -> Option<String> {
    let r = reqwest::Client::new()
        .get(format!("{base}/ping"))
        .header(ORIGIN, origin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.headers()
        .get(ACCESS_CONTROL_ALLOW_ORIGIN)
        .map(|v| v.to_str().unwrap().to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn cors_allows_listed_origins_refuses_others_and_answers_preflights() {
    let dir = tempfile::tempdir().unwrap();
    let app = start_in(dir.path(), &[("HTTP_CORS_ORIGINS", "https://app.example")]);
    assert_eq!(
        allowed_origin(&app.base, "https://app.example")
            .await
            .as_deref(),
        Some("https://app.example")
    );
    assert_eq!(
        allowed_origin(&app.base, "https://evil.example").await,
        None
    );

    let preflight = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, format!("{}/users/1", app.base))
        .header(ORIGIN, "https://app.example")
        .header("Access-Control-Request-Method", "PUT")
        .header(
            "Access-Control-Request-Headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    let headers = preflight.headers();
    assert_eq!(headers[ACCESS_CONTROL_ALLOW_ORIGIN], "https://app.example");
    let methods = headers["access-control-allow-methods"].to_str().unwrap();
    assert!(methods == "*" || methods.contains("PUT"), "{methods}");
    assert!(headers.contains_key("access-control-allow-headers"));
}

#[test]
fn credentials_with_any_origin_are_refused_at_boot() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_microcore-app"))
        .current_dir(dir.path())
        .env("HTTP_PORT", "0")
        .env("NO_COLOR", "1")
        .env("HTTP_CORS_ORIGINS", "*")
        .env("HTTP_CORS_CREDENTIALS", "true")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("HTTP_CORS_CREDENTIALS=true cannot be combined with HTTP_CORS_ORIGINS='*'"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_method_is_a_405_envelope_with_allow() {
    let dir = tempfile::tempdir().unwrap();
    let app = start_in(dir.path(), &[]);
    let r = reqwest::Client::new()
        .delete(format!("{}/ping", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    let allow = r.headers()[ALLOW].to_str().unwrap().to_string();
    assert!(allow.contains("GET"), "{allow}");
    assert_eq!(r.headers()["content-type"], "application/json");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["success"], false);
    assert!(body["error"].is_string(), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn json_logs_are_one_object_a_line_with_level_target_and_request_id() {
    let dir = tempfile::tempdir().unwrap();
    let app = start_in(
        dir.path(),
        &[
            ("LOG_FORMAT", "json"),
            // The access line of each request is at debug.
            ("RUST_LOG", "info,microcore_http::access=debug"),
        ],
    );
    // The boot log is JSON too: the address ends at the closing quote.
    let base = app.base.split('"').next().unwrap().to_string();
    let r = reqwest::Client::new()
        .post(format!("{base}/users"))
        .json(&serde_json::json!({"name": "J", "email": "j@example.com", "password": "password1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let registered = r.headers()["x-request-id"].to_str().unwrap().to_string();
    // A client's own id is kept, and written as a JSON string whatever it holds.
    let own_id = r#"probe-"7"\x"#;
    let r = reqwest::Client::new()
        .get(format!("{base}/nowhere"))
        .header("x-request-id", own_id)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    let mut lines = app.boot_log.clone();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let served = |lines: &[String]| {
        lines
            .iter()
            .filter(|l| l.contains("request served"))
            .count()
    };
    while std::time::Instant::now() < deadline
        && !(lines.iter().any(|l| l.contains("welcome sent")) && served(&lines) >= 2)
    {
        if let Ok(line) = app.logs.recv_timeout(std::time::Duration::from_millis(100)) {
            lines.push(line);
        }
    }
    assert!(
        lines.iter().any(|l| l.contains("welcome sent")),
        "{lines:#?}"
    );
    let mut request_ids = Vec::new();
    for line in &lines {
        let value: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(value["level"].is_string(), "{line}");
        assert!(value["target"].is_string(), "{line}");
        assert!(value["message"].is_string(), "{line}");
        if value["message"] == "request served" {
            // Every line of a request carries its id.
            let id = value["request_id"]
                .as_str()
                .unwrap_or_else(|| panic!("no request_id: {line}"));
            request_ids.push(id.to_string());
        }
    }
    assert_eq!(request_ids, [registered.as_str(), own_id], "{lines:#?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn settings_come_from_the_environment_then_dot_env_then_defaults() {
    // Default: any origin.
    let dir = tempfile::tempdir().unwrap();
    let app = start_in(dir.path(), &[]);
    assert_eq!(
        allowed_origin(&app.base, "https://x.example")
            .await
            .as_deref(),
        Some("*")
    );
    drop(app);
    // .env over the default.
    std::fs::write(
        dir.path().join(".env"),
        "HTTP_CORS_ORIGINS=https://dotenv.example\n",
    )
    .unwrap();
    let app = start_in(dir.path(), &[]);
    assert_eq!(
        allowed_origin(&app.base, "https://dotenv.example")
            .await
            .as_deref(),
        Some("https://dotenv.example")
    );
    assert_eq!(allowed_origin(&app.base, "https://x.example").await, None);
    drop(app);
    // The environment over .env.
    let app = start_in(dir.path(), &[("HTTP_CORS_ORIGINS", "https://env.example")]);
    assert_eq!(
        allowed_origin(&app.base, "https://env.example")
            .await
            .as_deref(),
        Some("https://env.example")
    );
    assert_eq!(
        allowed_origin(&app.base, "https://dotenv.example").await,
        None
    );
}
