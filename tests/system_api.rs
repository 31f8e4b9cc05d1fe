//! The system routes of CONTRACT.md §2 against the booted example app,
//! through real HTTP: every endpoint answers real data in the contract's
//! shapes, each SSE stream delivers an event a request caused,
//! `SYSTEM_ROUTES` decides who may read them, and two boots of one build
//! write the same `AI_CONTEXT.md`.

mod support;

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::app::{Backend, TestApp};

const PASSWORD: &str = "password1";

async fn register(app: &TestApp, email: &str, request_id: &str) -> Value {
    let r = app
        .client
        .post(app.url("/users"))
        .header("X-Request-ID", request_id)
        .json(&json!({"name": "Ada", "email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
}

async fn login(app: &TestApp, email: &str, password: &str) -> (StatusCode, Value) {
    let r = app
        .client
        .post(app.url("/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap())
}

/// `data` of a successful GET.
async fn data(app: &TestApp, path: &str) -> Value {
    let r = app.client.get(app.url(path)).send().await.unwrap();
    assert_eq!(r.status(), 200, "GET {path}");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["success"], true, "GET {path}: {body}");
    body["data"].clone()
}

/// Waits (up to 5 s) until `check` accepts `data` of `path`: what a
/// subscriber publishes lands a moment after the request that caused it.
async fn eventually(app: &TestApp, path: &str, check: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let value = data(app, path).await;
        if check(&value) {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "GET {path} never matched: {value}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    keys
}

async fn every_endpoint_answers_real_data(backend: Backend) {
    let app = TestApp::start(backend, &[]).await;
    let email = format!("ada-{}@example.com", uuid::Uuid::new_v4().simple());
    let user = register(&app, &email, "R-system-1").await;
    assert_eq!(login(&app, &email, "wrong-password").await.0, 400);
    assert_eq!(login(&app, &email, PASSWORD).await.0, 200);
    data(&app, "/ping").await;

    // status: tools and plugins with their state
    let status = data(&app, "/system/status").await;
    for tool in ["http", "db", "event_bus", "auth", "state", "registry"] {
        let found = status["tools"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == tool)
            .unwrap_or_else(|| panic!("tool {tool} in {status}"));
        assert_eq!(found["status"], "OK", "{found}");
        assert!(found["message"].is_string());
    }
    let register_plugin = status["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "users.RegisterUser")
        .unwrap()
        .clone();
    assert_eq!(register_plugin["domain"], "users");
    assert_eq!(register_plugin["status"], "READY");
    assert_eq!(register_plugin["error"], Value::Null);
    assert!(
        register_plugin["tools"]
            .as_array()
            .unwrap()
            .contains(&json!("db"))
    );

    // metrics: recent tool calls, newest first
    let calls = data(&app, "/system/metrics").await;
    let calls = calls.as_array().unwrap();
    assert!(!calls.is_empty() && calls.len() <= 1000);
    assert_eq!(
        keys(&calls[0]),
        [
            "duration_ms",
            "method",
            "plugin",
            "success",
            "timestamp",
            "tool"
        ]
    );
    let called = |tool: &str, method: &str, plugin: &str| {
        calls
            .iter()
            .any(|c| c["tool"] == tool && c["method"] == method && c["plugin"] == plugin)
    };
    assert!(called("auth", "hash_password", "users.RegisterUser"));
    assert!(called("event_bus", "publish_in", "users.RegisterUser"));
    assert!(
        called("state", "incr", "users.Login"),
        "a login attempt is counted in state"
    );
    assert!(called("auth", "issue", "users.Login"));
    let stamps: Vec<&str> = calls
        .iter()
        .map(|c| c["timestamp"].as_str().unwrap())
        .collect();
    assert!(stamps.windows(2).all(|w| w[0] >= w[1]), "newest first");

    // events: topology and counts, sorted by name
    let events =
        eventually(&app, "/system/events", |e| {
            e["events"].as_array().unwrap().iter().any(|t| {
                t["event"] == "welcome.notify.sent" && t["times_fired"].as_u64() >= Some(1)
            })
        })
        .await;
    let events = events["events"].as_array().unwrap();
    let names: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert!(names.windows(2).all(|w| w[0] < w[1]), "sorted: {names:?}");
    let created = events
        .iter()
        .find(|e| e["event"] == "user.created")
        .unwrap();
    assert_eq!(
        keys(created),
        ["event", "last_emitters", "subscribers", "times_fired"]
    );
    assert!(created["times_fired"].as_u64().unwrap() >= 1);
    assert_eq!(created["last_emitters"][0], "users.RegisterUser");
    assert!(
        created["subscribers"]
            .as_array()
            .unwrap()
            .contains(&json!("users.Welcome.on_user_created"))
    );

    // schemas: per event, who declared what
    let schemas = data(&app, "/system/events/schemas").await;
    let declared = schemas["schemas"]["user.created"].as_array().unwrap();
    let publisher = declared
        .iter()
        .find(|s| s["plugin"] == "users.RegisterUser")
        .unwrap();
    assert_eq!(publisher["domain"], "users");
    assert!(
        publisher["file"]
            .as_str()
            .unwrap()
            .starts_with("domains/users/plugins/register_user.rs")
    );
    assert!(publisher["json_schema"]["properties"]["email"].is_object());

    // traces: the registration's causal chain
    let flat = data(&app, "/system/traces/flat").await;
    let flat = flat.as_array().unwrap();
    let root = flat
        .iter()
        .find(|n| n["event"] == "user.created" && n["parent_id"] == "R-system-1")
        .expect("user.created caused by the request");
    assert_eq!(
        keys(root),
        [
            "correlation_id",
            "emitter",
            "event",
            "id",
            "parent_id",
            "payload_keys",
            "subscribers",
            "timestamp"
        ]
    );
    assert_eq!(root["emitter"], "users.RegisterUser");
    assert_eq!(root["payload_keys"], json!(["email", "id", "roles"]));
    let tree = data(&app, "/system/traces/tree").await;
    let root = tree
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["parent_id"] == "R-system-1")
        .expect("the request's event is a root: R-system-1 is not an event");
    assert_eq!(root["event"], "user.created");
    assert!(
        root["children"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["event"] == "welcome.notify.sent" && c["children"] == json!([])),
        "{root}"
    );

    // lint: the contract's lists
    let lint = data(&app, "/system/lint").await;
    for list in [
        "arch_violations",
        "event_contract_violations",
        "route_collisions",
        "table_ownership_warnings",
    ] {
        assert!(lint[list].is_array(), "{lint}");
    }
    assert_eq!(lint["route_collisions"], json!([]));
    // The example app keeps its own rules (tests/architecture_checks.rs breaks them).
    assert_eq!(lint["arch_violations"], json!([]), "{lint}");
    assert_eq!(lint["table_ownership_warnings"], json!([]), "{lint}");

    // Prometheus: counters and histograms per tool method and per route
    let r = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = r.text().await.unwrap();
    assert!(
        text.contains(
            r#"microcore_http_requests_total{method="POST",route="/users",status="201"} 1"#
        )
    );
    assert!(
        text.contains(
            r#"microcore_http_requests_total{method="GET",route="/ping",status="200"} 1"#
        )
    );
    assert!(text.contains(
        r#"microcore_tool_call_duration_seconds_count{tool="auth",method="hash_password"} 1"#
    ));
    // Each login attempt reserves its place in the throttle first.
    assert!(text.contains(r#"microcore_tool_calls_total{tool="state",method="incr"} 2"#));

    // liveness and readiness
    assert_eq!(data(&app, "/system/health").await["status"], "ok");
    let ready = data(&app, "/system/ready").await;
    assert_eq!(ready["ready"], true);
    assert!(
        ready["tools"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "db" && t["critical"] == true)
    );

    let _ = user;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_answers_real_data_on_sqlite() {
    every_endpoint_answers_real_data(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_answers_real_data_on_postgres() {
    every_endpoint_answers_real_data(Backend::Postgres).await;
}

/// An open SSE stream: the messages read so far, one `data:` line each.
struct Stream {
    response: reqwest::Response,
    buffer: String,
}

impl Stream {
    async fn open(app: &TestApp, path: &str, token: Option<&str>) -> Self {
        let mut request = app.client.get(app.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200, "GET {path}");
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        assert_eq!(response.headers()["cache-control"], "no-cache");
        Self {
            response,
            buffer: String::new(),
        }
    }

    /// The first message `check` accepts, within 5 s.
    async fn until(&mut self, check: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let frame: String = self.buffer.drain(..end + 2).collect();
                let lines: Vec<&str> = frame.lines().filter(|l| l.starts_with("data:")).collect();
                if lines.is_empty() {
                    continue; // a heartbeat comment
                }
                assert_eq!(lines.len(), 1, "one data line per message: {frame:?}");
                let message: Value =
                    serde_json::from_str(lines[0]["data:".len()..].trim()).unwrap();
                if check(&message) {
                    return message;
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk())
                .await
                .expect("the stream delivers within 5 s")
                .unwrap()
                .expect("the stream stays open");
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_stream_delivers_what_a_request_caused() {
    let app = TestApp::start(Backend::Sqlite, &[]).await;
    let mut events = Stream::open(&app, "/system/events/stream", None).await;
    let mut traces = Stream::open(&app, "/system/traces/stream", None).await;
    let mut logs = Stream::open(&app, "/system/logs/stream", None).await;
    let mut metrics = Stream::open(&app, "/system/metrics/stream", None).await;
    let snapshot = traces.until(|_| true).await;
    assert_eq!(snapshot["type"], "snapshot");
    assert!(snapshot["tree"].is_array());

    let email = format!("sse-{}@example.com", uuid::Uuid::new_v4().simple());
    let user = register(&app, &email, "R-stream-1").await;

    let created = events.until(|m| m["event"] == "user.created").await;
    assert_eq!(created["parent_id"], "R-stream-1");
    assert_eq!(created["correlation_id"], "R-stream-1");
    assert_eq!(created["emitter"], "users.RegisterUser");
    assert_eq!(created["payload"]["id"], user["data"]["id"]);
    assert!(created["id"].is_string() && created["timestamp"].is_string());

    let node = traces
        .until(|m| m["type"] == "node" && m["node"]["event"] == "welcome.notify.sent")
        .await;
    assert_eq!(node["node"]["parent_id"], created["id"]);

    let line = logs
        .until(|m| {
            m["message"]
                .as_str()
                .is_some_and(|s| s.contains("welcome sent"))
        })
        .await;
    assert_eq!(line["level"], "INFO");
    assert!(line["timestamp"].is_string());

    let call = metrics
        .until(|m| m["tool"] == "auth" && m["method"] == "hash_password")
        .await;
    assert_eq!(call["plugin"], "users.RegisterUser");
    assert_eq!(call["success"], true);
    assert!(call["duration_ms"].as_f64().unwrap() >= 0.0);

    // Shutting down ends open streams (they would hold the graceful shutdown).
    app.stop().await;
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        // Messages sent before the shutdown may still be buffered.
        while let Some(_unread) = events.response.chunk().await.unwrap() {}
    })
    .await;
    assert!(ended.is_ok(), "the stream ends cleanly at shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_mode_refuses_callers_without_a_valid_token() {
    let app = TestApp::start(Backend::Sqlite, &[("SYSTEM_ROUTES", "token")]).await;
    for path in [
        "/system/status",
        "/system/metrics",
        "/system/events",
        "/system/events/schemas",
        "/system/traces/flat",
        "/system/traces/tree",
        "/system/lint",
        "/system/events/stream",
        "/system/traces/stream",
        "/system/logs/stream",
        "/system/metrics/stream",
        "/metrics",
    ] {
        let r = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 401, "GET {path}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(
            body,
            json!({"success": false, "error": "Missing authorization token"})
        );
        let forged = app
            .client
            .get(app.url(path))
            .bearer_auth("not.a.token")
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), 401, "GET {path} with a bad token");
    }
    for path in ["/system/health", "/system/ready"] {
        let r = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path} stays public");
    }

    let email = format!("token-{}@example.com", uuid::Uuid::new_v4().simple());
    register(&app, &email, "R-token-1").await;
    let (_, session) = login(&app, &email, PASSWORD).await;
    let token = session["data"]["token"].as_str().unwrap();
    let r = app
        .client
        .get(app.url("/system/status"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let mut events = Stream::open(&app, "/system/events/stream", Some(token)).await;
    register(&app, &format!("x{email}"), "R-token-2").await;
    events.until(|m| m["parent_id"] == "R-token-2").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_defaults_to_token_and_off_serves_only_the_probes() {
    let production = TestApp::start(Backend::Sqlite, &[("APP_ENV", "production")]).await;
    let r = production
        .client
        .get(production.url("/system/status"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    production.stop().await;

    let off = TestApp::start(Backend::Sqlite, &[("SYSTEM_ROUTES", "off")]).await;
    for path in ["/system/status", "/system/events/stream", "/metrics"] {
        let r = off.client.get(off.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 404, "GET {path} is not served");
    }
    assert_eq!(data(&off, "/system/health").await["status"], "ok");
    assert_eq!(data(&off, "/system/ready").await["ready"], true);
    off.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_boots_write_the_same_ai_context() {
    let dir = tempfile::tempdir().unwrap();
    let mut texts = Vec::new();
    for name in ["first.md", "second.md"] {
        let path = dir.path().join(name);
        let app = TestApp::start(
            Backend::Sqlite,
            &[("AI_CONTEXT_PATH", path.to_str().unwrap())],
        )
        .await;
        // Traffic after the boot does not change the file.
        let email = format!("ctx-{}@example.com", uuid::Uuid::new_v4().simple());
        register(&app, &email, "R-context").await;
        app.stop().await;
        texts.push(std::fs::read(&path).unwrap());
    }
    assert_eq!(texts[0], texts[1], "same build, same bytes");
    let text = String::from_utf8(texts.remove(0)).unwrap();
    let app = microcore_app::app();
    for plugin in app.plugins() {
        let heading = format!("### `{}` — READY", plugin.qualified_name());
        assert!(text.contains(&heading), "{heading} in AI_CONTEXT.md");
    }
    for tool in app.tools() {
        assert!(
            text.contains(&format!("| `{}` |", tool.name)),
            "tool {}",
            tool.name
        );
    }
    assert!(text.contains("| POST | `/users` | `users.RegisterUser` |"));
    assert!(text.contains("### `user.created`"));
    assert!(text.contains("## Authoring guide"));
    assert!(text.contains("| `users` | `users` | `id INTEGER PRIMARY KEY AUTOINCREMENT`"));
    assert!(text.contains("- `async fn query_one_raw(") || text.contains("`Db`:"));
    assert!(
        text.len() <= microcore_registry::context::BUDGET_BYTES,
        "AI_CONTEXT.md is {} bytes, over its budget of {}",
        text.len(),
        microcore_registry::context::BUDGET_BYTES
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_context_command_prints_what_the_boot_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("AI_CONTEXT.md");
    let app = TestApp::start(
        Backend::Sqlite,
        &[("AI_CONTEXT_PATH", path.to_str().unwrap())],
    )
    .await;
    app.stop().await;
    let written = std::fs::read_to_string(&path).unwrap();

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_microcore-app"))
        .arg("context")
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(String::from_utf8(output.stdout).unwrap(), written);
    let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(files.len(), 1, "`context` writes no file of its own");
}
