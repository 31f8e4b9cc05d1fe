//! Routes that cannot be served together stop the boot before anything
//! is served, once, naming both plugins and both registration calls: the
//! same method and path twice, and patterns the router cannot tell apart.
//! A dry run (what `check` and `routes` boot) finds them too, and binds
//! no port.
#![allow(missing_docs, missing_debug_implementations)]

use domains::prelude::*;
use microcore::BootError;

/// Serves GET /greeting.
#[plugin(domain = "dup")]
pub struct Greeter {
    http: Http,
}

impl Plugin for Greeter {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        self.http.get("/greeting", &self, Self::hello);
        Ok(())
    }
}

impl Greeter {
    async fn hello(self: Arc<Self>) -> Result<&'static str> {
        Ok("hello")
    }
}

/// Serves GET /greeting as well.
#[plugin(domain = "dup")]
pub struct Welcomer {
    http: Http,
}

impl Plugin for Welcomer {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        self.http.post("/greeting", &self, Self::welcome);
        self.http.get("/greeting", &self, Self::welcome);
        Ok(())
    }
}

impl Welcomer {
    async fn welcome(self: Arc<Self>) -> Result<&'static str> {
        Ok("welcome")
    }
}

/// Serves GET /hello/{name}.
#[plugin(domain = "overlap")]
pub struct NameGreeter {
    http: Http,
}

impl Plugin for NameGreeter {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        self.http.get("/hello/{name}", &self, Self::greet);
        Ok(())
    }
}

impl NameGreeter {
    async fn greet(self: Arc<Self>, Path(name): Path<String>) -> Result<String> {
        Ok(name)
    }
}

/// Serves DELETE /hello/{who}: another name at the same place.
#[plugin(domain = "overlap")]
pub struct WhoForgetter {
    http: Http,
}

impl Plugin for WhoForgetter {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        self.http.delete("/hello/{who}", &self, Self::forget);
        Ok(())
    }
}

impl WhoForgetter {
    async fn forget(self: Arc<Self>, Path(who): Path<String>) -> Result<String> {
        Ok(who)
    }
}

/// The error of booting the app with the plugins of `domain` only.
async fn rejected(domain: &str, dry_run: bool) -> String {
    let mut app = microcore_app::app()
        .retain_plugins(|p| p.domain() == domain)
        .with_var("HTTP_PORT", "0")
        .with_var("DATABASE_URL", "sqlite::memory:")
        .with_var("AI_CONTEXT_PATH", "");
    if dry_run {
        app = app.dry_run();
    }
    match app.boot().await {
        Err(e @ BootError::Rejected(_)) => e.to_string(),
        Err(e) => panic!("rejected for another reason: {e}"),
        Ok(running) => {
            running.shutdown().await;
            panic!("booted with colliding routes");
        }
    }
}

#[tokio::test]
async fn a_route_registered_twice_names_both_plugins_and_calls() {
    let error = rejected("dup", false).await;
    insta::assert_snapshot!(error);
    assert_eq!(
        error,
        rejected("dup", true).await,
        "a dry run says the same"
    );
}

#[tokio::test]
async fn overlapping_patterns_name_both_plugins_and_calls() {
    let error = rejected("overlap", false).await;
    insta::assert_snapshot!(error);
    assert_eq!(
        error,
        rejected("overlap", true).await,
        "a dry run says the same"
    );
}

#[tokio::test]
async fn a_dry_run_binds_no_port() {
    let running = microcore_app::app()
        .retain_plugins(|p| p.domain() == "ping")
        .dry_run()
        .boot()
        .await
        .unwrap();
    let http = running.handle::<Http>().unwrap();
    assert_eq!(http.local_addr(), None);
    assert!(http.router().is_some(), "the routes are still gathered");
    running.shutdown().await;
}
