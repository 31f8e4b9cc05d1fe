//! OpenTelemetry (issue 7): with `OTEL_EXPORTER_OTLP_ENDPOINT` set, the
//! real binary exports its spans over OTLP/HTTP, and one trace follows a
//! request through the bus into the handlers, on every bus driver (the
//! trace context travels in the events' headers). The test is its own
//! collector: a small OTLP/HTTP JSON receiver on a free port.

mod support;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use serde_json::{Value, json};
use support::services;

/// How long the spans of a request may take to reach the receiver.
const BOUND: Duration = Duration::from_secs(10);

/// One received span, as the OTLP JSON encoding has it.
#[derive(Clone, Debug)]
struct Span {
    trace: String,
    id: String,
    parent: String,
    name: String,
    /// 2 server, 3 client, 4 producer, 5 consumer.
    kind: i64,
    attributes: BTreeMap<String, String>,
    service: String,
}

/// The spans received so far.
type Spans = Arc<Mutex<Vec<Span>>>;

/// A collector's OTLP/HTTP endpoint, for JSON (`http/json`).
struct Receiver {
    endpoint: String,
    spans: Spans,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    async fn start() -> Self {
        let spans = Spans::default();
        let app = Router::new()
            .route("/v1/traces", post(receive))
            .with_state(spans.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            endpoint,
            spans,
            task,
        }
    }

    /// Starts the app binary exporting to this receiver, with `more` settings.
    async fn start_app(&self, more: &[(&str, &str)]) -> (support::AppProcess, tempfile::TempDir) {
        let env: Vec<(String, String)> = [
            ("OTEL_EXPORTER_OTLP_ENDPOINT", self.endpoint.as_str()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
            ("OTEL_SERVICE_NAME", "otel-test"),
            ("AUTH_SECRET_KEY", "otel-test-key-otel-test-key-otel-test!"),
        ]
        .iter()
        .chain(more)
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        // Booting blocks; the receiver keeps answering meanwhile.
        tokio::task::spawn_blocking(move || {
            let env: Vec<(&str, &str)> =
                env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            support::start_app(&env)
        })
        .await
        .unwrap()
    }

    /// Waits (up to [`BOUND`]) until `found` finds what it looks for in
    /// the spans received.
    async fn wait_for<T>(&self, what: &str, found: impl Fn(&[Span]) -> Option<T>) -> T {
        let deadline = Instant::now() + BOUND;
        loop {
            let spans = self.spans.lock().unwrap().clone();
            if let Some(answer) = found(&spans) {
                return answer;
            }
            if Instant::now() > deadline {
                let names: Vec<String> = spans
                    .iter()
                    .map(|s| format!("{} ({}) parent {} in {}", s.name, s.id, s.parent, s.trace))
                    .collect();
                panic!("{what} within {BOUND:?}; received: {names:#?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `POST /v1/traces`: an `ExportTraceServiceRequest` in JSON.
async fn receive(State(spans): State<Spans>, body: Bytes) -> axum::Json<Value> {
    let request: Value = serde_json::from_slice(&body).expect("OTLP JSON");
    let mut received = Vec::new();
    for resource_spans in array(&request["resourceSpans"]) {
        let service = attributes(&resource_spans["resource"]["attributes"])
            .remove("service.name")
            .unwrap_or_default();
        for scope_spans in array(&resource_spans["scopeSpans"]) {
            for span in array(&scope_spans["spans"]) {
                received.push(Span {
                    trace: text(&span["traceId"]),
                    id: text(&span["spanId"]),
                    parent: text(&span["parentSpanId"]),
                    name: text(&span["name"]),
                    kind: kind(&span["kind"]),
                    attributes: attributes(&span["attributes"]),
                    service: service.clone(),
                });
            }
        }
    }
    spans.lock().unwrap().extend(received);
    axum::Json(json!({}))
}

fn array(value: &Value) -> &[Value] {
    value.as_array().map_or(&[], Vec::as_slice)
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_string()
}

/// The span kind, as a number or as its enum name.
fn kind(value: &Value) -> i64 {
    match value {
        Value::Number(n) => n.as_i64().unwrap_or(0),
        Value::String(s) => match s.as_str() {
            "SPAN_KIND_INTERNAL" => 1,
            "SPAN_KIND_SERVER" => 2,
            "SPAN_KIND_CLIENT" => 3,
            "SPAN_KIND_PRODUCER" => 4,
            "SPAN_KIND_CONSUMER" => 5,
            _ => 0,
        },
        _ => 0,
    }
}

/// `[{"key": k, "value": {"stringValue": v}}]` as `k -> v` (any value kind).
fn attributes(value: &Value) -> BTreeMap<String, String> {
    array(value)
        .iter()
        .filter_map(|kv| {
            let key = kv["key"].as_str()?.to_string();
            let value = kv["value"].as_object()?.values().next()?;
            let value = value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_string);
            Some((key, value))
        })
        .collect()
}

/// Whether `span` descends from the span `ancestor` through spans received.
fn descends(spans: &[Span], span: &Span, ancestor: &str) -> bool {
    let mut parent = span.parent.clone();
    for _ in 0..16 {
        if parent == ancestor {
            return true;
        }
        match spans
            .iter()
            .find(|s| s.id == parent && s.trace == span.trace)
        {
            Some(next) => parent = next.parent.clone(),
            None => return false,
        }
    }
    false
}

/// The server span of `POST /users` whose trace satisfies `within`.
fn server_span<'a>(spans: &'a [Span], trace: Option<&str>) -> Option<&'a Span> {
    spans.iter().find(|s| {
        s.kind == 2
            && s.attributes.get("url.path").map(String::as_str) == Some("/users")
            && s.attributes.get("http.request.method").map(String::as_str) == Some("POST")
            && trace.is_none_or(|t| s.trace == t)
    })
}

async fn register(base: &str, headers: &[(&str, &str)]) {
    let email = format!("{}@example.com", services::unique_name());
    let mut request = reqwest::Client::new()
        .post(format!("{base}/users"))
        .json(&json!({"name": "Trace", "email": email, "password": "password1"}));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
}

/// `POST /users` on an app with `bus` settings: the request's server span,
/// the handling of `user.created` and the publishing of what the welcome
/// handler sends, in one trace, each a descendant of the request.
async fn one_trace_through_the_bus(bus: &[(&str, &str)]) {
    let receiver = Receiver::start().await;
    let (app, _dir) = receiver.start_app(bus).await;
    register(&app.base, &[]).await;

    let (http, handled, sent) = receiver
        .wait_for(
            "one trace from POST /users to welcome.notify.sent",
            |spans| {
                let http = server_span(spans, None)?;
                let sent = spans.iter().find(|s| {
                    s.name == "publish welcome.notify.sent"
                        && s.trace == http.trace
                        && descends(spans, s, &http.id)
                })?;
                let handled = spans.iter().find(|s| s.id == sent.parent)?;
                Some((http.clone(), handled.clone(), sent.clone()))
            },
        )
        .await;
    assert_eq!(http.name, "POST /users");
    assert_eq!(http.service, "otel-test");
    assert_eq!(http.attributes["http.response.status_code"], "201");
    assert_eq!(sent.kind, 4, "a producer span: {sent:?}");
    // The welcome handler publishes inside the span of its delivery...
    assert_eq!(handled.name, "handle user.created", "{handled:?}");
    assert_eq!(handled.kind, 5, "a consumer span: {handled:?}");
    assert_eq!(handled.attributes["microcore.plugin"], "users.Welcome");
    // ...which continues the publishing of user.created, inside the request.
    let spans = receiver.spans.lock().unwrap().clone();
    let published = spans
        .iter()
        .find(|s| s.id == handled.parent)
        .expect("the parent of the handler's span");
    assert_eq!(published.name, "publish user.created");
    assert_eq!(published.parent, http.id);
    drop(app);
}

#[tokio::test(flavor = "multi_thread")]
async fn one_trace_on_the_in_process_bus() {
    one_trace_through_the_bus(&[]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn one_trace_on_the_sqlite_bus() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/bus.db", dir.path().display());
    one_trace_through_the_bus(&[("EVENT_BUS_URL", &url)]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn one_trace_on_redis_streams() {
    let prefix = services::unique_name();
    let outcome = one_trace_on_a_broker(services::REDIS, &prefix).await;
    services::clear_redis_prefix(&prefix).await;
    outcome.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
}

#[tokio::test(flavor = "multi_thread")]
async fn one_trace_on_nats_jetstream() {
    let prefix = services::unique_name();
    let outcome = one_trace_on_a_broker(services::NATS, &prefix).await;
    services::delete_nats_prefix(&prefix).await;
    outcome.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
}

/// The check on the shared broker at `url`, caught, so the test's streams
/// are removed even when it fails.
async fn one_trace_on_a_broker(
    url: &str,
    prefix: &str,
) -> Result<(), Box<dyn std::any::Any + Send>> {
    use futures::FutureExt as _;
    let vars = [("EVENT_BUS_URL", url), ("EVENT_BUS_PREFIX", prefix)];
    std::panic::AssertUnwindSafe(one_trace_through_the_bus(&vars))
        .catch_unwind()
        .await
}

/// A client that sends `traceparent` gets the request's span in its trace,
/// as a child of its own span.
#[tokio::test(flavor = "multi_thread")]
async fn the_request_span_continues_the_client_trace() {
    let receiver = Receiver::start().await;
    let (app, _dir) = receiver.start_app(&[]).await;
    let (trace, parent) = ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7");
    let traceparent = format!("00-{trace}-{parent}-01");
    register(&app.base, &[("traceparent", &traceparent)]).await;
    let http = receiver
        .wait_for("the request's span in the client's trace", |spans| {
            server_span(spans, Some(trace)).cloned()
        })
        .await;
    assert_eq!(http.parent, parent);
    drop(app);
}

/// Spans still batched when the app is told to stop are exported before
/// it exits: with a minute between exports, only the flush at shutdown
/// can have sent the request's span.
#[tokio::test(flavor = "multi_thread")]
async fn the_last_spans_leave_at_shutdown() {
    let receiver = Receiver::start().await;
    let (mut app, _dir) = receiver
        .start_app(&[("OTEL_BSP_SCHEDULE_DELAY", "60000")])
        .await;
    register(&app.base, &[]).await;
    let status = tokio::task::spawn_blocking(move || support::terminate(&mut app))
        .await
        .unwrap();
    assert!(status.success(), "exit status after SIGTERM: {status}");
    let spans = receiver.spans.lock().unwrap().clone();
    assert!(
        server_span(&spans, None).is_some(),
        "the request's span, exported before exit: {spans:#?}"
    );
}

/// A protocol the build cannot speak stops the boot, naming the variable.
#[test]
fn an_unsupported_protocol_stops_the_boot() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_microcore-app"))
        .current_dir(dir.path())
        .env("HTTP_PORT", "0")
        .env("NO_COLOR", "1")
        .env("AI_CONTEXT_PATH", "")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the app booted with OTEL_EXPORTER_OTLP_PROTOCOL=grpc");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("OTEL_EXPORTER_OTLP_PROTOCOL") && stderr.contains("grpc"),
        "{stderr}"
    );
}
