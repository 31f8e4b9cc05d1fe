//! Zero-wiring discovery, tried the way a user would: copy the project,
//! drop a new plugin file (and a new domain folder) in, run `cargo build`
//! with nothing else edited, and call the new routes. Delete a plugin file,
//! again with no other edit: the app builds, boots and serves everything
//! else. Then add two wiring mistakes in two files: one `check` run reports
//! both, with file, line and field, and exits non-zero. Then two plugins on
//! one route: `check` names both and both registration calls.
//!
//! This test runs cargo itself (see `support::project`).

mod support;

use std::path::Path;
use std::process::Command;

use support::project::renamed_copy;

const NEW_DOMAIN_PLUGIN: &str = r#"//! GET /hello: a plugin in a brand-new domain folder.

use crate::prelude::*;

/// Says hello.
#[plugin]
pub struct Hello {
    http: Http,
}

impl Plugin for Hello {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        self.http.get("/hello", &self, Self::execute);
        Ok(())
    }
}

impl Hello {
    async fn execute(self: Arc<Self>) -> Result<&'static str> {
        Ok("hello")
    }
}
"#;

const BROKEN_MAILER: &str = r#"use crate::prelude::*;

/// A handle whose tool no crate provides.
#[derive(Clone)]
pub struct Mailer;
impl ToolHandle for Mailer {
    const NAME: &'static str = "mailer";
}

/// Needs a mailer.
#[plugin]
pub struct SendWelcome {
    http: Http,
    mailer: Mailer,
}

impl Plugin for SendWelcome {}
"#;

const BROKEN_CACHE: &str = r#"use crate::prelude::*;

/// A handle whose tool no crate provides.
#[derive(Clone)]
pub struct Cache;
impl ToolHandle for Cache {
    const NAME: &'static str = "cache";
}

/// Needs a cache.
#[plugin]
pub struct CachedPing {
    cache: Cache,
}

impl Plugin for CachedPing {}
"#;

/// The copy's app package is renamed, so its builds never overwrite the
/// checkout's own `microcore-app` that other tests run meanwhile.
const BIN: &str = "discovery-app";

fn build(project: &Path) -> String {
    support::project::build(project, BIN)
}

#[tokio::test]
async fn a_dropped_in_file_is_served_and_wiring_mistakes_are_all_reported() {
    let sandbox = tempfile::tempdir().unwrap();
    let project = sandbox.path().join("app");
    assert_eq!(renamed_copy(&project, BIN), BIN);
    build(&project);

    // A copy of the ping plugin with a renamed struct and route, and a new domain.
    let ping = std::fs::read_to_string(project.join("domains/ping/plugins/ping.rs")).unwrap();
    let again = ping
        .replace("Ping", "PingAgain")
        .replace("\"/ping\"", "\"/ping-again\"");
    std::fs::write(project.join("domains/ping/plugins/ping_again.rs"), again).unwrap();
    std::fs::create_dir_all(project.join("domains/hello/plugins")).unwrap();
    std::fs::write(
        project.join("domains/hello/plugins/hello.rs"),
        NEW_DOMAIN_PLUGIN,
    )
    .unwrap();

    let binary = build(&project);
    let app = support::start_binary(&binary, sandbox.path(), &[]);
    for (path, expected) in [
        (
            "/ping-again",
            serde_json::json!({"status": "ok", "message": "pong"}),
        ),
        ("/hello", serde_json::json!("hello")),
    ] {
        let response = reqwest::get(format!("{}{path}", app.base)).await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["data"], expected, "{path}");
    }
    drop(app);

    std::fs::remove_file(project.join("domains/users/plugins/logout.rs")).unwrap();
    let binary = build(&project);
    let app = support::start_binary(&binary, sandbox.path(), &[]);
    let client = reqwest::Client::new();
    let logout = client
        .post(format!("{}/auth/logout", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 404, "the deleted feature is gone");
    let register = client
        .post(format!("{}/users", app.base))
        .json(&serde_json::json!({"name": "Ada", "email": "ada@example.com", "password": "password1"}))
        .send()
        .await
        .unwrap();
    assert!(
        register.status().is_success(),
        "its domain's other features serve: {}",
        register.status()
    );
    for path in ["/ping", "/hello", "/system/health", "/system/ready"] {
        let response = reqwest::get(format!("{}{path}", app.base)).await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
    }
    let status: serde_json::Value = reqwest::get(format!("{}/system/status", app.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let plugins = status["data"]["plugins"].as_array().unwrap();
    assert!(plugins.iter().all(|p| p["status"] == "READY"), "{status}");
    assert!(
        plugins.iter().all(|p| p["name"] != "users.Logout"),
        "{status}"
    );
    drop(app);

    std::fs::write(
        project.join("domains/hello/plugins/send_welcome.rs"),
        BROKEN_MAILER,
    )
    .unwrap();
    std::fs::write(
        project.join("domains/ping/plugins/cached_ping.rs"),
        BROKEN_CACHE,
    )
    .unwrap();
    let binary = build(&project);
    let check = Command::new(&binary).arg("check").output().unwrap();
    assert_eq!(check.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert!(
        stderr.contains("field 'mailer' of plugin 'hello.SendWelcome' needs tool 'mailer'")
            && stderr.contains("--> domains/hello/plugins/send_welcome.rs:14"),
        "{stderr}"
    );
    assert!(
        stderr.contains("field 'cache' of plugin 'ping.CachedPing' needs tool 'cache'")
            && stderr.contains("--> domains/ping/plugins/cached_ping.rs:13"),
        "{stderr}"
    );
    assert!(stderr.contains("found 2 problems"), "{stderr}");

    // Wiring mended, a second plugin takes GET /hello: `check` names both
    // plugins and both `.get()` calls, once, and nothing else.
    for broken in [
        "domains/hello/plugins/send_welcome.rs",
        "domains/ping/plugins/cached_ping.rs",
    ] {
        std::fs::remove_file(project.join(broken)).unwrap();
    }
    std::fs::write(
        project.join("domains/hello/plugins/hello_again.rs"),
        NEW_DOMAIN_PLUGIN.replace("Hello", "HelloAgain"),
    )
    .unwrap();
    let binary = build(&project);
    let check = Command::new(&binary)
        .arg("check")
        .current_dir(&project)
        .output()
        .unwrap();
    assert_eq!(check.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert!(
        stderr.starts_with("error[route_conflict]: GET /hello is registered by two plugins, 'hello.Hello' and 'hello.HelloAgain'"),
        "{stderr}"
    );
    for site in [
        "--> domains/hello/plugins/hello_again.rs:13:",
        "::: domains/hello/plugins/hello.rs:13:",
    ] {
        assert!(stderr.contains(site), "{site} in {stderr}");
    }
    assert_eq!(stderr.matches("route_conflict").count(), 1, "{stderr}");
    assert!(!stderr.contains("INFO"), "no log lines: {stderr}");
}
