//! Schemathesis against the real binary's `/openapi.json`, every operation,
//! authenticated: no 5xx, every response matching its documented schema
//! and status, auth enforced, invalid data rejected. `./scripts/test`
//! installs it in a venv and sets `SCHEMATHESIS` to its path.
//!
//! Excluded check: `positive_data_acceptance`, which expects every
//! schema-valid body to succeed, while the contract answers some with
//! documented business errors (400 "No fields to update" for `{}`, 400
//! "Email already in use").

mod support;

use std::process::Command;

#[tokio::test(flavor = "multi_thread")]
async fn schemathesis_finds_nothing() {
    let schemathesis = std::env::var("SCHEMATHESIS")
        .expect("SCHEMATHESIS is the path of the schemathesis CLI: run the suite with ./scripts/test, which installs it");
    let (app, dir) =
        support::start_app(&[("AUTH_SECRET_KEY", "fuzzing-key-fuzzing-key-fuzzing-key!")]);
    let client = reqwest::Client::new();
    let user =
        serde_json::json!({"name": "Fuzz", "email": "fuzz@example.com", "password": "password1"});
    assert_eq!(
        client
            .post(format!("{}/users", app.base))
            .json(&user)
            .send()
            .await
            .unwrap()
            .status(),
        201
    );
    let token = support::login(&client, &app.base, "fuzz@example.com", "password1").await;
    let output = Command::new(schemathesis)
        .args(["run", &format!("{}/openapi.json", app.base)])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args([
            "--checks",
            "all",
            "--exclude-checks",
            "positive_data_acceptance",
        ])
        .args([
            "--max-time",
            "45",
            "--workers",
            "2",
            "--warnings",
            "off",
            "--seed",
            "1",
        ])
        .env("NO_COLOR", "1")
        .current_dir(dir.path())
        .output()
        .expect("schemathesis runs");
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "schemathesis found problems:\n{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let selected = report
        .lines()
        .find_map(|l| l.trim().strip_prefix("Selected: "))
        .and_then(|s| s.split('/').next())
        .expect("schemathesis reports the operations it selected");
    assert!(
        report.contains(&format!("Tested: {selected}")),
        "every selected operation was tested:\n{report}"
    );
    assert!(
        selected.parse::<u32>().unwrap() >= 9,
        "the contract's 9 operations at least:\n{report}"
    );
}
