//! Zero-wiring discovery, tried the way a user would: copy the project,
//! drop a new plugin file (and a new domain folder) in, run `cargo build`
//! with nothing else edited, and call the new routes. Then add two wiring
//! mistakes in two files: one `check` run reports both, with file, line
//! and field, and exits non-zero.
//!
//! This test runs cargo itself. Under nextest (the project's test command)
//! no outer cargo holds the target-dir lock while tests run, so it shares
//! the warm target dir; under plain `cargo test` it uses a sibling one.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

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

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn target_dir() -> PathBuf {
    let outer = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    if std::env::var_os("NEXTEST").is_some() {
        outer
    } else {
        outer.with_extension("nested")
    }
}

/// Copies the project's sources (not `target/`, not `.git/`).
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let name = entry.file_name();
        if [".git", "target", "tests", "docs"]
            .iter()
            .any(|skip| name == *skip)
        {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            copy_tree(&path, &to.join(&name));
        } else {
            std::fs::copy(&path, to.join(&name)).unwrap();
        }
    }
}

fn cargo(project: &Path, args: &[&str]) -> std::process::Output {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    Command::new(cargo)
        .args(args)
        .args(["--offline", "--quiet"])
        .current_dir(project)
        .env("CARGO_TARGET_DIR", target_dir())
        .output()
        .expect("cargo runs")
}

fn build(project: &Path) -> String {
    let out = cargo(project, &["build", "--bin", "microcore-app"]);
    assert!(
        out.status.success(),
        "build failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    target_dir()
        .join("debug/microcore-app")
        .display()
        .to_string()
}

#[tokio::test]
async fn a_dropped_in_file_is_served_and_wiring_mistakes_are_all_reported() {
    let sandbox = tempfile::tempdir().unwrap();
    let project = sandbox.path().join("app");
    copy_tree(&workspace_root(), &project);
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
        stderr.contains("domains/hello/plugins/send_welcome.rs:14: field 'mailer' of plugin 'hello.SendWelcome' needs tool 'mailer'"),
        "{stderr}"
    );
    assert!(
        stderr.contains("domains/ping/plugins/cached_ping.rs:13: field 'cache' of plugin 'ping.CachedPing' needs tool 'cache'"),
        "{stderr}"
    );
    assert!(stderr.contains("found 2 problems"), "{stderr}");
}
