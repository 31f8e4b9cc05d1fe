//! `microcore check --format json` on a generated project: a type error in
//! a plugin file comes out as one JSON diagnostic at the plugin's file,
//! line and column, with rustc's code, and the command exits 1; once the
//! plugin compiles, the app's own check runs and the document is clean.

mod support;

use std::process::{Command, Output};

use serde_json::Value;
use support::{Project, scrubbed, target_dir};

/// `microcore check --format json` in the project, cargo on the shared
/// target dir, offline.
fn check_json(project: &Project) -> (Output, Value) {
    let out = scrubbed(Command::new(env!("CARGO_BIN_EXE_microcore")))
        .args(["check", "--format", "json"])
        .current_dir(&project.dir)
        .env("CARGO_TARGET_DIR", target_dir())
        .env("CARGO_NET_OFFLINE", "true")
        .env("DATABASE_URL", "sqlite::memory:")
        .env("AI_CONTEXT_PATH", "")
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is one JSON document ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out, report)
}

#[test]
fn a_type_error_in_a_plugin_is_a_diagnostic_at_its_line() {
    let project = Project::fresh("check-json");
    let plugin = project.dir.join("domains/ping/plugins/ping.rs");
    let source = std::fs::read_to_string(&plugin).unwrap();
    std::fs::write(&plugin, source.replace("status: \"ok\",", "status: 42,")).unwrap();

    let (out, report) = check_json(&project);
    assert_eq!(out.status.code(), Some(1), "{report:#}");
    assert_eq!(report["version"], 1);
    assert!(report["errors"].as_u64().unwrap() >= 1, "{report:#}");
    let error = &report["diagnostics"][0];
    assert_eq!(error["code"], "E0308", "{report:#}");
    assert_eq!(error["severity"], "error");
    assert_eq!(error["origin"], "rustc");
    assert_eq!(error["file"], "domains/ping/plugins/ping.rs");
    assert_eq!(error["line"], 28);
    assert_eq!(error["column"], 21);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .starts_with("mismatched types"),
        "{error}"
    );
    for field in ["help", "related"] {
        assert!(error.get(field).is_some(), "{field} in {error}");
    }

    std::fs::write(&plugin, source).unwrap();
    let (out, report) = check_json(&project);
    assert_eq!(report["errors"], 0, "{report:#}");
    assert_eq!(out.status.code(), Some(0));
}
