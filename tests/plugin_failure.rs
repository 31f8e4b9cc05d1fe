//! A plugin that panics in `on_boot` is marked DEAD with its reason, its
//! routes are withdrawn, and the rest of the app still serves. A handler
//! that panics answers a 500 envelope, its log line names the plugin, the
//! route and the request id, and the server lives on. While a critical plugin
//! is DEAD the app is not ready; one marked `critical = false` does not count.
#![allow(missing_docs, missing_debug_implementations)]

use domains::prelude::*;
use microcore::registry::{Need, PluginStatus};
use microcore_auth::AuthUser;

/// Registers a route, then panics: the route must not be served.
#[plugin(domain = "faulty")]
pub struct PanicsAtBoot {
    http: Http,
}

impl Plugin for PanicsAtBoot {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        self.http.get("/half-registered", &self, Self::never);
        panic!("database schema is not what I expected");
    }
}

impl PanicsAtBoot {
    async fn never(self: Arc<Self>) -> Result<()> {
        Ok(())
    }
}

/// Serves a route whose handler panics.
#[plugin(domain = "faulty")]
pub struct PanicsInHandler {
    http: Http,
}

impl Plugin for PanicsInHandler {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        self.http.get("/explode", &self, Self::explode);
        Ok(())
    }
}

impl PanicsInHandler {
    async fn explode(self: Arc<Self>) -> Result<()> {
        panic!("secret stack detail")
    }
}

/// Fails its boot, but the app serves without it.
#[plugin(domain = "faulty", critical = false)]
pub struct OptionalReport {}

impl Plugin for OptionalReport {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        Err(Error::internal("the report template is missing"))
    }
}

/// Takes `AuthUser` without an `auth` field: its argument is the edge.
#[plugin(domain = "faulty")]
pub struct WhoAmI {
    http: Http,
}

impl Plugin for WhoAmI {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        self.http.get("/whoami", &self, Self::me);
        Ok(())
    }
}

impl WhoAmI {
    async fn me(self: Arc<Self>, user: AuthUser) -> Result<()> {
        let _ = user;
        Ok(())
    }
}

#[tokio::test]
async fn a_handler_argument_needing_a_missing_tool_kills_its_plugin_naming_the_call() {
    let running = microcore_app::app()
        .retain_tools(|t| ["config", "log", "http"].contains(&t.name))
        .retain_plugins(|p| p.name == "WhoAmI")
        .with_var("HTTP_PORT", "0")
        .boot()
        .await
        .unwrap();
    let who = running.registry().plugin("faulty.WhoAmI").unwrap();
    let need = Need {
        tool: "auth".into(),
        via: "argument `AuthUser` of GET /whoami".into(),
        location: "tests/plugin_failure.rs:68".into(),
    };
    assert_eq!(who.needs, [need]);
    assert_eq!(
        (who.status, who.error.as_deref()),
        (
            PluginStatus::Dead,
            Some(
                "tests/plugin_failure.rs:68: argument `AuthUser` of GET /whoami needs tool 'auth', \
         which is not set up (linked: config, http, log); help: add the crate that provides \
         'auth' to the app's [dependencies], or remove the argument `AuthUser` of GET /whoami"
            )
        )
    );
    let base = base_of(&running);
    let withdrawn = reqwest::get(format!("{base}/whoami")).await.unwrap();
    assert_eq!(withdrawn.status(), 404);
    running.shutdown().await;
}

/// `/system/ready`'s status and its error message (empty when ready).
async fn ready(base: &str) -> (u16, String) {
    let r = reqwest::get(format!("{base}/system/ready")).await.unwrap();
    let status = r.status().as_u16();
    let body: serde_json::Value = r.json().await.unwrap();
    (
        status,
        body["error"].as_str().unwrap_or_default().to_string(),
    )
}

fn base_of(running: &microcore::Running) -> String {
    format!(
        "http://{}",
        running.handle::<Http>().unwrap().local_addr().unwrap()
    )
}

#[tokio::test]
async fn a_dead_critical_plugin_makes_the_app_not_ready_and_is_named() {
    let running = microcore_app::app()
        .with_var("HTTP_PORT", "0")
        .boot()
        .await
        .unwrap();
    let (status, error) = ready(&base_of(&running)).await;
    assert_eq!(status, 503);
    assert_eq!(
        error,
        "Not ready: plugin 'faulty.PanicsAtBoot' (tests/plugin_failure.rs:13) is DEAD: \
         panicked: database schema is not what I expected"
    );
    running.shutdown().await;
}

#[tokio::test]
async fn a_dead_plugin_that_is_not_critical_leaves_the_app_ready() {
    let running = microcore_app::app()
        .retain_plugins(|p| p.name != "PanicsAtBoot")
        .with_var("HTTP_PORT", "0")
        .boot()
        .await
        .unwrap();
    let optional = running.registry().plugin("faulty.OptionalReport").unwrap();
    assert_eq!(
        (optional.status, optional.critical),
        (PluginStatus::Dead, false)
    );
    assert_eq!(ready(&base_of(&running)).await, (200, String::new()));
    let registry = running.handle::<microcore_registry::Registry>().unwrap();
    let readiness = registry.readiness().await;
    assert!(readiness.ready && readiness.failing.is_empty());
    running.shutdown().await;
}

#[tokio::test]
async fn a_panicking_plugin_is_isolated_and_reported() {
    let running = microcore_app::app()
        .with_var("HTTP_PORT", "0")
        .boot()
        .await
        .expect("a panicking plugin does not stop the boot");
    let dead = running.registry().plugin("faulty.PanicsAtBoot").unwrap();
    assert_eq!(dead.status, PluginStatus::Dead);
    assert_eq!(
        dead.error.as_deref(),
        Some("panicked: database schema is not what I expected")
    );
    let base = base_of(&running);

    let ping = reqwest::get(format!("{base}/ping")).await.unwrap();
    assert_eq!(ping.status(), 200);
    let withdrawn = reqwest::get(format!("{base}/half-registered"))
        .await
        .unwrap();
    assert_eq!(withdrawn.status(), 404);

    let mut lines = microcore_log::watch();
    let exploded = reqwest::Client::new()
        .get(format!("{base}/explode"))
        .header("x-request-id", "req-boom-1")
        .send()
        .await
        .unwrap();
    assert_eq!(exploded.status(), 500);
    let logged = loop {
        let line = lines.recv().await.unwrap();
        if line.level == "ERROR" && line.message.starts_with("handler panicked") {
            break line;
        }
    };
    assert_eq!(logged.plugin.as_deref(), Some("faulty.PanicsInHandler"));
    insta::assert_snapshot!(
        "the_panic_log_line_names_plugin_route_and_request",
        logged.message
    );
    let body = exploded.text().await.unwrap();
    assert_eq!(body, r#"{"success":false,"error":"Internal server error"}"#);
    let again = reqwest::get(format!("{base}/ping")).await.unwrap();
    assert_eq!(
        again.status(),
        200,
        "the server lives after a handler panic"
    );
    running.shutdown().await;
}
