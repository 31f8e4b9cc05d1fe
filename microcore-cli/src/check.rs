//! `microcore check [--strict] [--format json]`: builds the app, then runs
//! its own `check` (wiring, a dry boot, the lints). With `--format json`
//! the build runs with `--message-format=json` and a compile error comes
//! out in the same document as the app's diagnostics, at the plugin's
//! file and line (the schema is in `docs/check-json.md`), so a tool reads
//! one format whatever went wrong.

use std::path::Path;
use std::process::Stdio;

use serde_json::{Value, json};

use crate::dev::cargo::{AppBinary, app_binary, cargo};
use crate::failure::Failure;

/// The version of the document, the app's `check --format json` one.
const SCHEMA_VERSION: u32 = 1;

/// Runs the check of the project at `root`; `Err` when it found an error
/// (or a warning, with `strict`), or could not run.
pub(crate) async fn run(root: &Path, json: bool, strict: bool) -> Result<(), Failure> {
    let app = match app_binary(root).await {
        Ok(app) => app,
        Err(failure) if json => {
            print_document(vec![build_failure(&format!("error: {failure}"))]);
            return Err(failure);
        }
        Err(failure) => return Err(failure),
    };
    if !json {
        let built = cargo()
            .args(["build", "--bin", &app.name])
            .current_dir(root)
            .status()
            .await
            .map_err(|e| Failure::failed(format!("cannot run `cargo build`: {e}")))?;
        if !built.success() {
            return Err(Failure::failed("the build failed (see above)"));
        }
        let status = app_check(root, &app, strict, false)
            .stdout(Stdio::inherit())
            .status()
            .await
            .map_err(|e| Failure::failed(format!("cannot run {}: {e}", app.path.display())))?;
        return verdict(status.success());
    }
    let (built, mut diagnostics) = build_json(root, &app).await?;
    if built {
        let out = app_check(root, &app, strict, true)
            .output()
            .await
            .map_err(|e| Failure::failed(format!("cannot run {}: {e}", app.path.display())))?;
        let report: Value = serde_json::from_slice(&out.stdout).map_err(|e| {
            Failure::failed(format!(
                "`{} check --format json` printed no JSON ({e}): {}",
                app.name,
                String::from_utf8_lossy(&out.stderr)
            ))
        })?;
        diagnostics.extend(
            report["diagnostics"]
                .as_array()
                .into_iter()
                .flatten()
                .cloned(),
        );
    }
    let report = print_document(diagnostics);
    let failing = report["errors"].as_u64().unwrap_or(0) > 0
        || (strict && report["warnings"].as_u64().unwrap_or(0) > 0);
    verdict(built && !failing)
}

fn verdict(ok: bool) -> Result<(), Failure> {
    if ok {
        Ok(())
    } else {
        Err(Failure::failed("check found problems (see above)"))
    }
}

/// `<app> check [--strict] [--format json]` in `root`.
fn app_check(root: &Path, app: &AppBinary, strict: bool, json: bool) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(&app.path);
    command.arg("check").current_dir(root);
    if strict {
        command.arg("--strict");
    }
    if json {
        command.args(["--format", "json"]);
    }
    command
}

/// `cargo build --message-format=json`: whether it built, and each of the
/// compiler's errors and warnings as a diagnostic. A build that fails
/// without a compiler error (a broken Cargo.toml, a missing crate, the
/// linker) gets one diagnostic with cargo's own error lines.
async fn build_json(root: &Path, app: &AppBinary) -> Result<(bool, Vec<Value>), Failure> {
    let out = cargo()
        .args(["build", "--bin", &app.name, "--message-format=json"])
        .current_dir(root)
        .output()
        .await
        .map_err(|e| Failure::failed(format!("cannot run `cargo build`: {e}")))?;
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let mut diagnostics: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-message")
        .filter_map(|m| compiler_message(&m["message"], &root))
        .collect();
    let built = out.status.success();
    if !built && !diagnostics.iter().any(|d| d["severity"] == "error") {
        diagnostics.push(build_failure(&String::from_utf8_lossy(&out.stderr)));
    }
    Ok((built, diagnostics))
}

/// The diagnostic of a build that failed before or after the compiler
/// said anything: cargo's `error:` lines and what follows them.
pub(crate) fn build_failure(stderr: &str) -> Value {
    let lines: Vec<&str> = stderr
        .lines()
        .skip_while(|l| !l.starts_with("error"))
        .filter(|l| !l.trim().is_empty())
        .take(20)
        .collect();
    let message = if lines.is_empty() {
        "`cargo build` failed without saying why".to_string()
    } else {
        lines.join("\n")
    };
    placeless(
        "build_failed",
        &message,
        Some("run `cargo build` in the project to see cargo's whole output"),
        "cargo",
    )
}

/// An error the document can place in no file (a build step's, the
/// linker's).
fn placeless(code: &str, message: &str, help: Option<&str>, origin: &str) -> Value {
    json!({
        "code": code,
        "severity": "error",
        "message": message,
        "file": null,
        "line": null,
        "column": null,
        "help": help,
        "related": [],
        "origin": origin,
    })
}

/// One rustc diagnostic in the document's shape, at its first place in
/// the project (a plugin file rather than a macro's definition); `None`
/// for the summaries (`aborting due to ...`, `2 warnings emitted`).
pub(crate) fn compiler_message(m: &Value, root: &Path) -> Option<Value> {
    let severity = match m["level"].as_str()? {
        "error" => "error",
        "warning" => "warning",
        _ => return None,
    };
    let spans: Vec<&Value> = m["spans"].as_array().into_iter().flatten().collect();
    let message = m["message"].as_str().unwrap_or_default();
    if spans.is_empty() {
        // A summary (`aborting due to ...`) or an error of no place (the
        // linker's): only the latter says something.
        let summary = message.starts_with("aborting due to")
            || message.ends_with("emitted")
            || message.starts_with("could not compile");
        let code = m["code"]["code"].as_str().unwrap_or("rustc");
        return (severity == "error" && !summary).then(|| placeless(code, message, None, "rustc"));
    }
    let relative = |file: &str| -> Option<String> {
        let path = Path::new(file);
        if path.is_relative() {
            return Some(file.to_string());
        }
        path.strip_prefix(root)
            .ok()
            .map(|p| p.display().to_string())
    };
    // The primary span, or what it expanded from, in the project's files.
    let primary = spans
        .iter()
        .find(|s| s["is_primary"] == true)
        .or(spans.first())
        .copied()?;
    let mut at = primary;
    while at["file_name"].as_str().and_then(relative).is_none() {
        match at["expansion"]["span"].as_object() {
            Some(_) => at = &at["expansion"]["span"],
            None => {
                at = primary;
                break;
            }
        }
    }
    let message = match at["label"].as_str().filter(|l| !l.is_empty()) {
        Some(label) => format!("{message}: {label}"),
        None => message.to_string(),
    };
    let helps: Vec<String> = m["children"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["level"] == "help")
        .map(|c| {
            let text = c["message"].as_str().unwrap_or_default();
            let replacement = c["spans"][0]["suggested_replacement"].as_str();
            match replacement {
                Some(r) if !r.is_empty() => format!("{text}: `{r}`"),
                _ => text.to_string(),
            }
        })
        .collect();
    let related: Vec<Value> = spans
        .iter()
        .filter(|s| !std::ptr::eq(**s, at))
        .filter_map(|s| {
            Some(json!({
                "file": relative(s["file_name"].as_str()?)?,
                "line": s["line_start"],
                "column": s["column_start"],
                "label": s["label"].as_str().unwrap_or_default(),
            }))
        })
        .collect();
    let file = at["file_name"]
        .as_str()
        .map(|f| relative(f).unwrap_or_else(|| f.to_string()));
    Some(json!({
        "code": m["code"]["code"].as_str().unwrap_or("rustc"),
        "severity": severity,
        "message": message,
        "file": file,
        "line": at["line_start"],
        "column": at["column_start"],
        "help": if helps.is_empty() { Value::Null } else { Value::String(helps.join("; ")) },
        "related": related,
        "origin": "rustc",
    }))
}

/// Prints the [`document`] of `diagnostics` on stdout and returns it.
fn print_document(diagnostics: Vec<Value>) -> Value {
    let report = document(diagnostics);
    println!(
        "{}",
        serde_json::to_string_pretty(&report).unwrap_or_default()
    );
    report
}

/// The document: `diagnostics` errors first, counted.
fn document(mut diagnostics: Vec<Value>) -> Value {
    diagnostics.sort_by_key(|d| d["severity"] != "error");
    let errors = diagnostics
        .iter()
        .filter(|d| d["severity"] == "error")
        .count();
    json!({
        "version": SCHEMA_VERSION,
        "errors": errors,
        "warnings": diagnostics.len() - errors,
        "diagnostics": diagnostics,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_type_error_in_a_plugin_keeps_its_file_line_and_fix() {
        let root = Path::new("/work/shop");
        let m = json!({
            "level": "error", "message": "mismatched types", "code": {"code": "E0308"},
            "children": [{"level": "help", "message": "try using a conversion method",
                "spans": [{"suggested_replacement": "\"x\".to_string()"}]}],
            "spans": [{"file_name": "/work/shop/domains/ping/plugins/ping.rs", "line_start": 21,
                "column_start": 12, "is_primary": true, "label": "expected `String`, found `&str`",
                "expansion": null}]
        });
        let d = compiler_message(&m, root).unwrap();
        assert_eq!(d["file"], "domains/ping/plugins/ping.rs");
        assert_eq!(
            (d["line"].as_u64(), d["column"].as_u64()),
            (Some(21), Some(12))
        );
        assert_eq!(d["code"], "E0308");
        assert_eq!(
            d["message"],
            "mismatched types: expected `String`, found `&str`"
        );
        assert_eq!(
            d["help"],
            "try using a conversion method: `\"x\".to_string()`"
        );
        assert!(compiler_message(&json!({"level": "error", "message": "aborting due to 1 previous error", "spans": []}), root).is_none());
    }

    #[test]
    fn a_build_that_fails_without_a_compiler_error_says_what_cargo_said() {
        let d = build_failure(
            "    Updating crates.io index\nerror: no matching package named `microcore-mailer` found\nlocation searched: crates.io index\n",
        );
        assert_eq!(
            (
                d["code"].as_str(),
                d["severity"].as_str(),
                d["origin"].as_str()
            ),
            (Some("build_failed"), Some("error"), Some("cargo"))
        );
        assert_eq!(
            d["message"],
            "error: no matching package named `microcore-mailer` found\nlocation searched: crates.io index"
        );
        assert_eq!(
            build_failure("")["message"],
            "`cargo build` failed without saying why"
        );
        let linker = json!({"level": "error", "message": "linking with `cc` failed: exit status: 1", "code": null, "spans": []});
        let d = compiler_message(&linker, Path::new("/work/shop")).unwrap();
        assert_eq!(
            (d["message"].as_str(), d["file"].as_null()),
            (Some("linking with `cc` failed: exit status: 1"), Some(()))
        );
    }

    #[test]
    fn an_error_inside_a_macro_is_placed_where_the_macro_is_called() {
        let m = json!({
            "level": "error", "message": "bad", "code": null, "children": [],
            "spans": [{"file_name": "/elsewhere/microcore/src/lib.rs", "line_start": 1,
                "column_start": 1, "is_primary": true, "label": null,
                "expansion": {"span": {"file_name": "/work/shop/domains/a/plugins/b.rs",
                    "line_start": 7, "column_start": 5, "label": null, "expansion": null}}}]
        });
        let d = compiler_message(&m, Path::new("/work/shop")).unwrap();
        assert_eq!(
            (d["file"].as_str(), d["line"].as_u64()),
            (Some("domains/a/plugins/b.rs"), Some(7))
        );
        assert_eq!(d["code"], "rustc");
    }
}
