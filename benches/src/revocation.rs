//! What the revocation check (issue 19, item 9) costs a request.
//!
//! Two counts, both in instructions (callgrind), so the shared box's load
//! does not blur them:
//! - the check alone: this binary runs `Auth::check` on a token that is
//!   not revoked, under valgrind, with an empty table and with 10,000
//!   revoked tokens plus 10,000 revoked users; the count of a run with
//!   `N` checks minus that of a run with none, over `N`, is one check;
//! - a whole authenticated request: the example app under callgrind, `GET
//!   /users/{id}` with a bearer token (the extractor verifies the token,
//!   then checks it), against `GET /ping`, as `scripts/bench http` counts them.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use microcore_auth::Auth;

use crate::callgrind;
use crate::fixtures;
use crate::http::routes;
use crate::paths::{bench_dir, fresh_workdir};
use crate::report::{Table, provenance};
use crate::server::Server;

/// Checks per probe run: enough that the loop dwarfs run-to-run noise.
const CALLS: u64 = 200_000;
/// Revocations in the full table: tokens, and as many users.
const REVOKED: u64 = 10_000;

/// Runs `calls` checks of a live token against a table of `revoked`
/// tokens and `revoked` users; what valgrind counts around it is the
/// same whatever `calls` is. The hidden `revocation-probe` sub-command.
pub(crate) fn probe(calls: u64, revoked: u64) -> Result<(), String> {
    let auth = Auth::for_tests();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a runtime: {e}"))?;
    let far = jsonwebtoken::get_current_timestamp() + 86_400;
    runtime.block_on(async {
        for i in 0..revoked {
            auth.revoke_token(&format!("revoked-{i}"), far)
                .await
                .map_err(|e| e.to_string())?;
            auth.revoke_user(&(1_000_000 + i).to_string())
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok::<(), String>(())
    })?;
    let claims = auth.claims_for(7, "ada@example.com", ["user"]);
    for _ in 0..calls {
        if std::hint::black_box(&auth)
            .check(std::hint::black_box(&claims))
            .is_err()
        {
            return Err("a live token was refused".into());
        }
    }
    Ok(())
}

/// Instructions valgrind counted for a probe run of `calls` checks.
fn probe_instructions(calls: u64, revoked: u64) -> Result<u64, String> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let out = Command::new("valgrind")
        .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
        .arg(me)
        .args([
            "revocation-probe",
            "--probe-calls",
            &calls.to_string(),
            "--probe-revoked",
            &revoked.to_string(),
        ])
        .output()
        .map_err(|e| format!("cannot run valgrind: {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!("the probe failed: {stderr}"));
    }
    // `==pid== Collected : 123456789`
    stderr
        .lines()
        .find_map(|l| l.split("Collected :").nth(1)?.trim().parse().ok())
        .ok_or_else(|| format!("no instruction count in valgrind's output: {stderr}"))
}

/// Instructions of one check with `revoked` revocations in the table.
fn per_check(revoked: u64) -> Result<f64, String> {
    let none = probe_instructions(0, revoked)?;
    let many = probe_instructions(CALLS, revoked)?;
    Ok(many.saturating_sub(none) as f64 / CALLS as f64)
}

/// Measures both counts; returns the block of the doc.
pub(crate) async fn run(app_bin: &Path, requests: usize, command: &str) -> Result<String, String> {
    eprintln!("revocation: the check alone under callgrind…");
    let empty = per_check(0)?;
    let full = per_check(REVOKED)?;
    eprintln!("revocation: the example app under callgrind…");
    let app = Server::new("example app", app_bin, &fresh_workdir("revocation-app")?);
    // Booted once to create the tables, then seeded, as `http` does.
    let running = app.start(Duration::from_secs(60)).await?;
    fixtures::seed_user(&app.database_url()).await?;
    running.stop(Duration::from_secs(10)).await?;
    let token = fixtures::token()?;
    let counts = callgrind::count(
        &app,
        &routes(&token),
        200,
        requests,
        &bench_dir().join("callgrind").join("revocation"),
    )
    .await?;
    let of = |route: &str| {
        counts
            .iter()
            .find(|c| c.route == route)
            .map_or(0.0, |c| c.per_request)
    };
    let (ping, user) = (of("GET /ping"), of("GET /users/{id}"));
    let share = |check: f64| format!("{:.2} %", 100.0 * check / user.max(1.0));
    let mut table = Table::new(&["", "instructions", "share of `GET /users/{id}`"]);
    table.row(vec![
        "`GET /ping` (no token)".into(),
        format!("{ping:.0}"),
        String::new(),
    ]);
    table.row(vec![
        "`GET /users/{id}` (bearer token, checked)".into(),
        format!("{user:.0}"),
        "100 %".into(),
    ]);
    table.row(vec![
        "the check, empty table".into(),
        format!("{empty:.0}"),
        share(empty),
    ]);
    table.row(vec![
        format!("the check, {REVOKED} tokens + {REVOKED} users revoked"),
        format!("{full:.0}"),
        share(full),
    ]);
    let rendered = table.render();
    println!("\nThe revocation check\n{rendered}");
    Ok(format!(
        "{}\n\nInstructions (callgrind): the check alone is `Auth::check` on a live token, \
         {CALLS} calls counted against none; the requests are {requests} in a row on one \
         keep-alive connection to the release app on SQLite.\n\n{rendered}",
        provenance(command)
    ))
}
