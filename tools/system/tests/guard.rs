//! The guard of the system routes, in a booted app: a plugin adds one more
//! route to the group, with no access check of its own, and it is refused
//! without a token in `token` mode, served in `public` mode and absent in
//! `off` mode, exactly like the framework's own system routes. Health and
//! readiness stay public in every mode.

use microcore::prelude::*;
use microcore_auth::Auth;
use microcore_config::Config;
use microcore_http::Http;
use microcore_state as _;
use serde_json::{Value, json};

/// `GET /system/extra`: a new route in the system group. Its handler
/// checks nothing.
#[plugin(domain = "tests")]
#[derive(Debug)]
pub struct Extra {
    http: Http,
    config: Config,
}

impl Plugin for Extra {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        if let Some(system) = microcore_system::guarded(&self.http, &self.config)? {
            system.get("/system/extra", &self, Self::extra);
        }
        Ok(())
    }
}

impl Extra {
    async fn extra(self: Arc<Self>) -> Result<&'static str> {
        Ok("secret")
    }
}

/// The system plugins, `Extra` and the tools they need, on a free port.
async fn boot(system_routes: &str) -> (microcore::Running, String) {
    let tools = microcore::TOOLS.iter().filter(|t| {
        [
            "config",
            "calls",
            "log",
            "http",
            "auth",
            "state",
            "event_bus",
            "db",
            "scheduler",
            "registry",
        ]
        .contains(&t.name)
    });
    let plugins = microcore::PLUGINS
        .iter()
        .filter(|p| p.name == "Extra" || p.location.file.contains("system"));
    let running = microcore::App::new(tools.collect(), plugins.collect())
        .with_var("HTTP_PORT", "0")
        .with_var("EVENT_BUS_URL", "memory://")
        .with_var("DATABASE_URL", "sqlite::memory:")
        .with_var("AI_CONTEXT_PATH", "")
        .with_var(
            "AUTH_SECRET_KEY",
            "a-test-key-that-is-long-enough-0123456789",
        )
        .with_var("SYSTEM_ROUTES", system_routes)
        .boot()
        .await
        .expect("the app boots");
    let base = format!(
        "http://{}",
        running.handle::<Http>().unwrap().local_addr().unwrap()
    );
    (running, base)
}

async fn get(url: &str, token: Option<&str>) -> (u16, Value) {
    let mut request = reqwest::Client::new().get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test]
async fn token_mode_guards_a_new_route_of_the_group_like_the_others() {
    let (running, base) = boot("token").await;
    let missing = json!({"success": false, "error": "Missing authorization token"});
    for path in [
        "/system/extra",
        "/system/status",
        "/metrics",
        "/system/lint",
    ] {
        assert_eq!(
            get(&format!("{base}{path}"), None).await,
            (401, missing.clone()),
            "{path}"
        );
    }
    assert_eq!(
        get(&format!("{base}/system/extra"), Some("forged")).await,
        (
            401,
            json!({"success": false, "error": "Invalid or expired token"})
        )
    );
    let token = running
        .handle::<Auth>()
        .unwrap()
        .issue_for(1, "ops@example.com", ["user"])
        .unwrap();
    assert_eq!(
        get(&format!("{base}/system/extra"), Some(&token)).await,
        (200, json!({"success": true, "data": "secret"}))
    );
    assert_eq!(
        get(&format!("{base}/system/status"), Some(&token)).await.0,
        200
    );
    for probe in ["/system/health", "/system/ready"] {
        assert_eq!(get(&format!("{base}{probe}"), None).await.0, 200, "{probe}");
    }
    let routes = running.handle::<Http>().unwrap().routes();
    let extra = routes.iter().find(|r| r.path == "/system/extra").unwrap();
    assert_eq!(extra.auth, Some("SYSTEM_ROUTES"));
    running.shutdown().await;
}

#[tokio::test]
async fn public_mode_serves_the_group_to_anyone() {
    let (running, base) = boot("public").await;
    assert_eq!(
        get(&format!("{base}/system/extra"), None).await,
        (200, json!({"success": true, "data": "secret"}))
    );
    assert_eq!(get(&format!("{base}/system/status"), None).await.0, 200);
    running.shutdown().await;
}

#[tokio::test]
async fn off_mode_serves_only_the_probes() {
    let (running, base) = boot("off").await;
    for path in [
        "/system/extra",
        "/system/status",
        "/metrics",
        "/system/dashboard",
    ] {
        assert_eq!(get(&format!("{base}{path}"), None).await.0, 404, "{path}");
    }
    assert_eq!(
        get(&format!("{base}/system/health"), None).await,
        (200, json!({"success": true, "data": {"status": "ok"}}))
    );
    assert_eq!(get(&format!("{base}/system/ready"), None).await.0, 200);
    running.shutdown().await;
}
