//! `check --format json` (docs/check-json.md): every diagnostic as JSON
//! with its code, severity, message, file, line, column and help; a wiring
//! error (two plugins on one route) makes the report fail, so the command
//! exits 1; the example app's report is clean and the command prints it
//! alone on stdout.
#![allow(missing_docs, missing_debug_implementations)]

use std::process::Command;

use domains::prelude::*;
use serde_json::Value;

/// Serves GET /clash.
#[plugin(domain = "clash")]
pub struct First {
    http: Http,
}

impl Plugin for First {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        self.http.get("/clash", &self, Self::answer);
        Ok(())
    }
}

impl First {
    async fn answer(self: Arc<Self>) -> Result<&'static str> {
        Ok("first")
    }
}

/// Serves GET /clash as well.
#[plugin(domain = "clash")]
pub struct Second {
    http: Http,
}

impl Plugin for Second {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        self.http.get("/clash", &self, Self::answer);
        Ok(())
    }
}

impl Second {
    async fn answer(self: Arc<Self>) -> Result<&'static str> {
        Ok("second")
    }
}

/// Every field the schema promises, with its JSON type.
fn assert_schema(report: &Value) {
    assert_eq!(report["version"], 1);
    let diagnostics = report["diagnostics"].as_array().expect("diagnostics");
    let errors = diagnostics
        .iter()
        .filter(|d| d["severity"] == "error")
        .count();
    assert_eq!(report["errors"], errors);
    assert_eq!(report["warnings"], diagnostics.len() - errors);
    for d in diagnostics {
        for text in ["code", "severity", "message", "origin"] {
            assert!(d[text].is_string(), "{text} in {d}");
        }
        for place in ["file", "help"] {
            assert!(d[place].is_string() || d[place].is_null(), "{place} in {d}");
        }
        for number in ["line", "column"] {
            assert!(d[number].is_u64() || d[number].is_null(), "{number} in {d}");
        }
        assert!(d["related"].is_array(), "related in {d}");
    }
}

#[test]
fn a_route_conflict_is_an_error_at_both_registrations() {
    let app = microcore_app::app()
        .retain_plugins(|p| p.domain() == "clash")
        .with_var("AI_CONTEXT_PATH", "");
    let report = microcore_commands::check_report(app);
    assert!(report.fails(false), "an error fails check: exit 1");
    let json = serde_json::to_value(&report).unwrap();
    assert_schema(&json);
    let conflict = &json["diagnostics"][0];
    assert_eq!(conflict["code"], "route_conflict");
    assert_eq!(conflict["severity"], "error");
    assert_eq!(conflict["origin"], "boot");
    assert_eq!(conflict["file"], "tests/check_json.rs");
    assert_eq!(conflict["line"], 40, "Second's .get() call");
    assert_eq!(conflict["column"], 19);
    assert!(conflict["help"].as_str().unwrap().contains("path"));
    assert_eq!(conflict["related"][0]["line"], 21, "First's .get() call");
}

#[test]
fn the_example_app_prints_a_clean_document_and_exits_0() {
    let out = Command::new(env!("CARGO_BIN_EXE_microcore-app"))
        .args(["check", "--format", "json"])
        .env("NO_COLOR", "1")
        .env("AI_CONTEXT_PATH", "")
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is one JSON document ({e}):\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_schema(&report);
    assert_eq!(report["errors"], 0, "{report:#}");
    assert_eq!(out.status.code(), Some(0));
}
