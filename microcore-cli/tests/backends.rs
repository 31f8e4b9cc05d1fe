//! A new app builds SQLite, the in-process bus and memory state only; a
//! URL that asks for an opt-in backend (PostgreSQL, Redis, NATS,
//! OpenTelemetry) stops the boot with the variable, the feature and the
//! line that turns it on. One cargo build.

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::{Project, free_port, ok, stop};

#[test]
fn a_url_whose_backend_is_compiled_out_stops_the_boot_naming_the_feature() {
    let project = Project::fresh("backends-app");
    let manifest = std::fs::read_to_string(project.dir.join("Cargo.toml")).unwrap();
    for line in [
        "[features]\n",
        "\npostgres = [\"microcore-db/postgres\"]\n",
        "\nredis = [\"microcore-state/redis\", \"microcore-event-bus/redis\"]\n",
        "\nnats = [\"microcore-event-bus/nats\"]\n",
        "\notel = [\"microcore-log/otel\"]\n",
    ] {
        assert!(manifest.contains(line), "no {line:?} in:\n{manifest}");
    }
    assert!(!manifest.contains("\ndefault ="), "{manifest}");
    ok(project.cargo(&["build"]));
    // None of the clients is linked.
    let tree = ok(project.cargo(&["tree", "--prefix", "none", "-e", "normal"]));
    for client in ["sqlx-postgres ", "redis ", "async-nats ", "opentelemetry "] {
        assert!(
            !tree.lines().any(|l| l.starts_with(client)),
            "{client}in the tree"
        );
    }

    for (variable, value, shown, krate, feature) in [
        (
            "DATABASE_URL",
            "postgres://app:s3cret@127.0.0.1/app",
            "postgres://app:***@127.0.0.1/app",
            "microcore-db",
            "postgres",
        ),
        (
            "STATE_URL",
            "redis://127.0.0.1:6379",
            "redis://127.0.0.1:6379",
            "microcore-state",
            "redis",
        ),
        (
            "EVENT_BUS_URL",
            "redis://127.0.0.1:6379",
            "redis://127.0.0.1:6379",
            "microcore-event-bus",
            "redis",
        ),
        (
            "EVENT_BUS_URL",
            "nats://127.0.0.1:4222",
            "nats://127.0.0.1:4222",
            "microcore-event-bus",
            "nats",
        ),
        (
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "http://127.0.0.1:4318",
            "http://127.0.0.1:4318",
            "microcore-log",
            "otel",
        ),
    ] {
        let (code, stderr) = boot(&project, variable, value);
        assert_eq!(code, Some(1), "{variable}={value}:\n{stderr}");
        for expected in [
            format!("{variable}='{shown}' needs "),
            format!("the cargo feature '{feature}' of {krate} is off"),
            format!("`cargo run --features {feature}`"),
            format!("\n          default = [\"{feature}\"]\n"),
            format!("adds features = [\"{feature}\"] in the {krate} line under [dependencies]"),
        ] {
            assert!(
                stderr.contains(&expected),
                "{variable}={value}: no {expected:?} in:\n{stderr}"
            );
        }
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!stderr.contains("s3cret"), "{stderr}");
    }
}

/// Runs the app with `variable=value` until it exits (it must, within
/// 60 s): its exit code and stderr.
fn boot(project: &Project, variable: &str, value: &str) -> (Option<i32>, String) {
    let mut child = Command::new(project.binary())
        .current_dir(&project.dir)
        .env("HTTP_PORT", free_port().to_string())
        .env("DATABASE_URL", "sqlite::memory:")
        .env(variable, value)
        .env_remove("LISTEN_FDS")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            stop(&mut child);
            panic!("{variable}={value}: the app booted instead of stopping");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
