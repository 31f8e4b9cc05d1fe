//! A plugin that panics in `on_boot` is marked DEAD with its reason, its
//! routes are withdrawn, and the rest of the app still serves. A handler
//! that panics answers a 500 envelope and the server lives on.
#![allow(missing_docs, missing_debug_implementations)]

use domains::prelude::*;
use microcore::registry::PluginStatus;

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
    let base = format!(
        "http://{}",
        running.handle::<Http>().unwrap().local_addr().unwrap()
    );

    let ping = reqwest::get(format!("{base}/ping")).await.unwrap();
    assert_eq!(ping.status(), 200);
    let withdrawn = reqwest::get(format!("{base}/half-registered"))
        .await
        .unwrap();
    assert_eq!(withdrawn.status(), 404);

    let exploded = reqwest::get(format!("{base}/explode")).await.unwrap();
    assert_eq!(exploded.status(), 500);
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
