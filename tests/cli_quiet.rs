//! The inspection commands print their answer and nothing else: no boot
//! log lines, no warning about settings they do not use (an unset
//! `AUTH_SECRET_KEY`), unless `RUST_LOG` asks for logs.

use std::process::{Command, Output};

fn run(command: &str, rust_log: Option<&str>) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let mut run = Command::new(env!("CARGO_BIN_EXE_microcore-app"));
    run.arg(command)
        .current_dir(dir.path())
        .env_remove("RUST_LOG")
        .env_remove("LOG_LEVEL")
        .env_remove("AUTH_SECRET_KEY")
        .env("DATABASE_URL", "sqlite::memory:")
        .env("AI_CONTEXT_PATH", "");
    if let Some(filter) = rust_log {
        run.env("RUST_LOG", filter);
    }
    run.output().unwrap()
}

#[test]
fn inspection_commands_print_only_their_output() {
    for command in ["routes", "graph", "context", "check", "doctor"] {
        let out = run(command, None);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(!stdout.trim().is_empty(), "{command} printed nothing");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            "",
            "{command} wrote to stderr (stdout: {stdout})"
        );
        for noise in [" INFO ", " WARN ", "AUTH_SECRET_KEY is not set: using"] {
            assert!(!stdout.contains(noise), "{command}: {noise} in {stdout}");
        }
    }
}

#[test]
fn rust_log_still_turns_logs_on() {
    let out = run("routes", Some("info"));
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("booted in"), "{stderr}");
}
