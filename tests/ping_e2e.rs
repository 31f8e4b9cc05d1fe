//! The real binary, started the way a user starts it, answers `/ping` with
//! the contract's envelope and headers, and stops cleanly on SIGTERM.

mod support;

#[tokio::test]
async fn the_binary_serves_ping_and_exits_zero_on_sigterm() {
    let (mut app, _dir) = support::start_app(&[]);
    let response = reqwest::get(format!("{}/ping", app.base)).await.unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert!(headers.contains_key("x-request-id"));
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        body,
        serde_json::json!({"success": true, "data": {"status": "ok", "message": "pong"}})
    );

    let missing = reqwest::get(format!("{}/no/such/path", app.base))
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let body: serde_json::Value = missing.json().await.unwrap();
    assert_eq!(body["success"], false);
    assert!(body["error"].is_string());

    let status = support::terminate(&mut app);
    assert!(status.success(), "exit status after SIGTERM: {status}");
}

#[test]
fn boot_logs_what_it_found() {
    let (app, _dir) = support::start_app(&[]);
    let text = app.boot_log.join("\n");
    assert!(
        text.contains("found ") && text.contains(" plugins"),
        "{text}"
    );
    assert!(!text.contains("found 0 tools"), "{text}");
}

#[test]
fn check_passes_and_graph_prints_the_boot_order() {
    let bin = env!("CARGO_BIN_EXE_microcore-app");
    let check = std::process::Command::new(bin)
        .arg("check")
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let graph = std::process::Command::new(bin)
        .arg("graph")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&graph.stdout);
    assert!(
        text.contains("tools, in boot order:") && text.contains("ping.Ping"),
        "{text}"
    );
    let dot = std::process::Command::new(bin)
        .args(["graph", "--format", "dot"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&dot.stdout);
    assert!(
        text.starts_with("digraph microcore {") && text.contains("\"ping.Ping\" -> \"http\""),
        "{text}"
    );
}

#[test]
fn a_bad_setting_names_the_variable_and_exits_non_zero() {
    let bin = env!("CARGO_BIN_EXE_microcore-app");
    let out = std::process::Command::new(bin)
        .env("HTTP_PORT", "eighty")
        .env("AI_CONTEXT_PATH", "")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("HTTP_PORT='eighty' is invalid: expected an integer from 0 to 65535"),
        "{stderr}"
    );
}
