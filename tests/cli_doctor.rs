//! `doctor` sets every tool up with the real configuration and says what
//! to fix: a database on a stopped port is named, with exit 1.

use std::process::Command;

fn doctor(env: &[(&str, &str)]) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_microcore-app"));
    command
        .arg("doctor")
        .current_dir(dir.path())
        .env("HTTP_PORT", "0")
        .env("AI_CONTEXT_PATH", "");
    for (k, v) in env {
        command.env(k, v);
    }
    let out = command.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn a_stopped_database_is_named_and_fails() {
    let (ok, report) = doctor(&[
        (
            "DATABASE_URL",
            "postgres://postgres:hunter2@127.0.0.1:1/orders",
        ),
        ("AUTH_SECRET_KEY", "a-strong-enough-key-of-32-bytes-or-more"),
    ]);
    assert!(!ok, "{report}");
    let db_line = report
        .lines()
        .find(|l| l.contains("FAIL") && l.contains("db"))
        .expect(&report);
    assert!(
        db_line.contains("127.0.0.1:1/orders") && db_line.contains("DATABASE_URL"),
        "{db_line}"
    );
    assert!(
        !report.contains("hunter2"),
        "the password is masked: {report}"
    );
}

#[test]
fn a_sound_configuration_passes_and_a_missing_secret_is_flagged() {
    let (ok, report) = doctor(&[("AUTH_SECRET_KEY", "a-strong-enough-key-of-32-bytes-or-more")]);
    assert!(ok, "{report}");
    assert!(report.contains("all tools are ready"), "{report}");
    let (ok, report) = doctor(&[]);
    assert!(!ok, "{report}");
    assert!(report.contains("AUTH_SECRET_KEY is not set"), "{report}");
}
