//! Crash durability of the SQLite bus: publish 10,000 events, SIGKILL the
//! app while handlers run, restart it on the same files, and check every
//! event was handled at least once and its idempotent effect applied
//! exactly once.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database, Statement};

const EVENTS: i64 = 10_000;

async fn count(db_url: &str, table: &str) -> i64 {
    let db = Database::connect(db_url).await.unwrap();
    let sql = format!("SELECT count(*) AS n, count(DISTINCT key) AS d FROM {table}");
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await;
    match row {
        Ok(Some(row)) => row.try_get::<i64>("", "n").unwrap_or(0),
        _ => 0,
    }
}

async fn distinct(db_url: &str, table: &str) -> i64 {
    let db = Database::connect(db_url).await.unwrap();
    let sql = format!("SELECT count(DISTINCT key) AS d FROM {table}");
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap();
    row.unwrap().try_get::<i64>("", "d").unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_mid_delivery_loses_nothing_and_effects_apply_once() {
    let dir = tempfile::tempdir().unwrap();
    let app_db = format!("sqlite://{}/app.db?mode=rwc", dir.path().display());
    let bus_db = format!("sqlite://{}/bus.db", dir.path().display());
    let env = [
        ("DATABASE_URL", app_db.as_str()),
        ("EVENT_BUS_URL", bus_db.as_str()),
    ];
    let probe = env!("CARGO_BIN_EXE_durability-probe");

    let mut first = support::start_binary(probe, dir.path(), &env);
    let published = reqwest::Client::new()
        .post(format!("{}/probe/publish?n={EVENTS}", first.base))
        .timeout(Duration::from_secs(120))
        .send()
        .await
        .unwrap();
    assert_eq!(
        published.status(),
        200,
        "{}",
        published.text().await.unwrap()
    );

    // Kill it while it is still handling: after some, before all.
    let deadline = Instant::now() + Duration::from_secs(60);
    while count(&app_db, "probe_handled").await < 50 {
        assert!(Instant::now() < deadline, "handlers did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Command::new("kill")
        .args(["-KILL", &first.child.id().to_string()])
        .status()
        .unwrap();
    let _ = first.child.wait();
    let handled_before = count(&app_db, "probe_handled").await;
    assert!(
        handled_before < EVENTS,
        "killed too late to prove anything ({handled_before} handled)"
    );

    let _second = support::start_binary(probe, dir.path(), &env);
    let deadline = Instant::now() + Duration::from_secs(120);
    while distinct(&app_db, "probe_effects").await < EVENTS {
        assert!(
            Instant::now() < deadline,
            "not every event was handled after the restart"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let effects = count(&app_db, "probe_effects").await;
    let handled_keys = distinct(&app_db, "probe_handled").await;
    assert_eq!(
        effects, EVENTS,
        "each idempotent effect applied exactly once"
    );
    assert_eq!(handled_keys, EVENTS, "every event handled at least once");
}
