//! Replicas: several schedulers on one database, each running the same
//! every-second job; every fire (by its scheduled time) runs exactly once
//! across all of them. In process (two connection pools, two schedulers) on
//! both backends, and as two separate app processes on PostgreSQL.

mod common;

use std::collections::BTreeMap;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{TestDb, assert_done_first_time};
use microcore::prelude::*;
use microcore_calls as _;
use microcore_config as _;
use microcore_db::Db;
use microcore_scheduler::{JobRun, Scheduler};
use sea_orm::{ConnectionTrait, Statement};

/// Which replica ran which fire (by scheduled time, in milliseconds).
type Ledger = Arc<Mutex<Vec<(i64, usize)>>>;

struct Replica {
    id: usize,
    ledger: Ledger,
}

impl Replica {
    async fn tick(self: Arc<Self>, run: JobRun) -> Result<()> {
        let fire = run.scheduled.timestamp_millis();
        self.ledger.lock().unwrap().push((fire, self.id));
        Ok(())
    }
}

/// Fires run more than once, and the number of fires.
fn duplicates(fires: impl IntoIterator<Item = i64>) -> (Vec<(i64, usize)>, usize) {
    let mut counts: BTreeMap<i64, usize> = BTreeMap::new();
    for fire in fires {
        *counts.entry(fire).or_default() += 1;
    }
    let twice = counts
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(f, n)| (*f, *n))
        .collect();
    (twice, counts.len())
}

async fn two_schedulers_run_each_fire_once(db: TestDb) {
    let ledger: Ledger = Arc::default();
    let mut schedulers = Vec::new();
    for id in 0..2 {
        let scheduler = db.scheduler().await;
        let replica = Arc::new(Replica {
            id,
            ledger: ledger.clone(),
        });
        scheduler
            .cron("tick", "* * * * * *", &replica, Replica::tick)
            .unwrap();
        scheduler.start();
        schedulers.push(scheduler);
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    let fired = |ledger: &Ledger| duplicates(ledger.lock().unwrap().iter().map(|(f, _)| *f)).1;
    common::eventually(Duration::from_secs(15), || async { fired(&ledger) >= 3 }).await;
    for scheduler in &schedulers {
        scheduler.stop().await;
    }

    let runs = ledger.lock().unwrap().clone();
    let (twice, fires) = duplicates(runs.iter().map(|(fire, _)| *fire));
    assert!(
        twice.is_empty(),
        "fires run more than once: {twice:?} (all runs: {runs:?})"
    );
    assert!(fires >= 3, "only {fires} fire(s) in 20 s: {runs:?}");

    let records = schedulers[0].records("tick").await.unwrap();
    assert_eq!(records.len(), fires);
    let instances: Vec<&str> = schedulers.iter().map(|s| s.instance()).collect();
    assert_done_first_time(&records, &instances);
}

on_both_backends!(two_schedulers_run_each_fire_once);

// --- two app processes ------------------------------------------------------

const CHILD_URL: &str = "MC_SCHED_CHILD_URL";
const CHILD_SECS: &str = "MC_SCHED_CHILD_SECS";

/// The plugin each app process runs: an every-second job writing which
/// process ran which fire into the shared database.
#[plugin(domain = "tests")]
#[derive(Debug)]
pub struct Ticks {
    scheduler: Scheduler,
    db: Db,
}

impl Plugin for Ticks {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        self.scheduler
            .cron("tick", "* * * * * *", &self, Self::tick)
    }
}

impl Ticks {
    async fn tick(self: Arc<Self>, run: JobRun) -> Result<()> {
        self.db
            .execute_raw(Statement::from_sql_and_values(
                self.db.backend(),
                "INSERT INTO ticks (fire, pid) VALUES ($1, $2)",
                [
                    run.scheduled.timestamp_millis().into(),
                    i64::from(std::process::id()).into(),
                ],
            ))
            .await?;
        Ok(())
    }
}

/// One app process (started by the test below with the variables set):
/// boots config, calls, db and scheduler with the `Ticks` plugin, runs for a
/// while, shuts down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "an app process of `two_app_processes_run_each_fire_once`, not a test of its own"]
async fn child_replica() {
    let (Ok(url), Ok(secs)) = (std::env::var(CHILD_URL), std::env::var(CHILD_SECS)) else {
        return;
    };
    let running = microcore::App::linked()
        .retain_tools(|t| ["config", "calls", "db", "scheduler"].contains(&t.name))
        .retain_plugins(|p| p.name == "Ticks")
        .with_var("DATABASE_URL", url)
        .with_var("SCHEDULER_POLL_SECS", "0.2")
        .boot()
        .await
        .expect("the app process boots");
    let ready = running.registry().plugin("tests.Ticks").map(|p| p.status);
    assert_eq!(ready, Some(microcore::registry::PluginStatus::Ready));
    tokio::time::sleep(Duration::from_secs_f64(secs.parse().unwrap())).await;
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_app_processes_run_each_fire_once() {
    let db = TestDb::postgres().await;
    let conn = db.connect().await;
    conn.execute_unprepared("CREATE TABLE ticks (fire BIGINT NOT NULL, pid BIGINT NOT NULL)")
        .await
        .unwrap();

    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..2)
        .map(|_| {
            tokio::process::Command::new(&exe)
                .args(["child_replica", "--exact", "--ignored", "--nocapture"])
                .env(CHILD_URL, &db.url)
                .env(CHILD_SECS, "6")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .expect("the test binary starts again as an app process")
        })
        .collect();
    for child in children {
        let out = tokio::time::timeout(Duration::from_secs(90), child.wait_with_output())
            .await
            .expect("the app process ends within 90 s")
            .unwrap();
        assert!(
            out.status.success(),
            "an app process failed: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("1 passed"),
            "the app process did not run: {stdout}"
        );
    }

    let rows = conn
        .query_all_raw(Statement::from_string(
            conn.backend(),
            "SELECT fire, pid FROM ticks ORDER BY fire",
        ))
        .await
        .unwrap();
    let runs: Vec<(i64, i64)> = rows
        .iter()
        .map(|r| {
            (
                r.try_get("", "fire").unwrap(),
                r.try_get("", "pid").unwrap(),
            )
        })
        .collect();
    let (twice, fires) = duplicates(runs.iter().map(|(fire, _)| *fire));
    assert!(
        twice.is_empty(),
        "fires run more than once: {twice:?} (all runs: {runs:?})"
    );
    assert!(fires >= 3, "only {fires} fire(s) in 6 s: {runs:?}");
    let pids: std::collections::BTreeSet<i64> = runs.iter().map(|(_, pid)| *pid).collect();
    eprintln!("{fires} fires, run by {} process(es): {runs:?}", pids.len());
    drop(conn.close_by_ref().await);
}
