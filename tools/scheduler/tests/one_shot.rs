//! One-shot jobs: stored in the database, run once when due, across
//! restarts, including a job that fell due while no scheduler was up.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use common::{TestDb, eventually};
use microcore::Result;
use microcore_scheduler::{JobKind, JobRun, JobStatus};
use sea_orm::ConnectionTrait;

#[derive(Default)]
struct Reminders {
    runs: Mutex<Vec<JobRun>>,
}

impl Reminders {
    async fn remind(self: Arc<Self>, run: JobRun) -> Result<()> {
        self.runs.lock().unwrap().push(run);
        Ok(())
    }

    fn count(&self) -> usize {
        self.runs.lock().unwrap().len()
    }
}

async fn after_a_delay_fires_once(db: TestDb) {
    let scheduler = db.scheduler().await;
    let reminders = Arc::new(Reminders::default());
    scheduler.start();
    let stored = scheduler
        .after(
            "hello",
            Duration::from_millis(300),
            &reminders,
            Reminders::remind,
        )
        .await
        .unwrap();
    assert!(stored);
    assert!(
        eventually(Duration::from_secs(10), || async { reminders.count() >= 1 }).await,
        "the one-shot job did not run within 10 s"
    );
    // Several polls later it has still run once, and declaring it again
    // (as every boot would) neither stores nor runs it again.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let again = scheduler
        .after("hello", Duration::ZERO, &reminders, Reminders::remind)
        .await
        .unwrap();
    assert!(!again);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    scheduler.stop().await;

    let runs = reminders.runs.lock().unwrap().clone();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(
        (runs[0].name.as_str(), runs[0].attempt, runs[0].kind),
        ("hello", 1, JobKind::Once)
    );
    let records = scheduler.records("hello").await.unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].status, JobStatus::Done);
    assert_eq!(records[0].attempts, 1);
    assert_eq!(records[0].scheduled, runs[0].scheduled);
}

async fn due_while_down_runs_once_at_start(db: TestDb) {
    // The first run of the app stores the job during its boot and goes
    // down before its scheduling starts.
    let due = {
        let scheduler = db.scheduler().await;
        let reminders = Arc::new(Reminders::default());
        let due = Utc::now() + TimeDelta::milliseconds(500);
        let stored = scheduler
            .at("wake-up", due, &reminders, Reminders::remind)
            .await
            .unwrap();
        assert!(stored);
        assert_eq!(
            scheduler.records("wake-up").await.unwrap()[0].status,
            JobStatus::Pending
        );
        due
    };
    // Down while it falls due.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    // The next run (a new connection, a new scheduler) declares the same
    // job again, as its on_boot would: the stored time is kept, and the
    // overdue job runs once, at start.
    let scheduler = db.scheduler().await;
    let reminders = Arc::new(Reminders::default());
    let stored = scheduler
        .at(
            "wake-up",
            Utc::now() + TimeDelta::hours(1),
            &reminders,
            Reminders::remind,
        )
        .await
        .unwrap();
    assert!(!stored, "the stored job is kept");
    scheduler.start();
    assert!(
        eventually(Duration::from_secs(10), || async { reminders.count() >= 1 }).await,
        "the overdue job did not run within 10 s of the start"
    );
    tokio::time::sleep(Duration::from_millis(1000)).await;
    scheduler.stop().await;
    let runs = reminders.runs.lock().unwrap().clone();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0].scheduled.timestamp_millis(), due.timestamp_millis());
    assert_eq!(
        scheduler.records("wake-up").await.unwrap()[0].status,
        JobStatus::Done
    );
}

async fn a_handler_registered_alone_runs_jobs_stored_before(db: TestDb) {
    // Jobs declared at run time, one per user, by a process that stops.
    {
        let scheduler = db.scheduler().await;
        let reminders = Arc::new(Reminders::default());
        for user in 1..=3 {
            scheduler
                .after(
                    &format!("remind-{user}"),
                    Duration::ZERO,
                    &reminders,
                    Reminders::remind,
                )
                .await
                .unwrap();
        }
    }
    // The next process only registers the handler in on_boot.
    let scheduler = db.scheduler().await;
    let reminders = Arc::new(Reminders::default());
    scheduler.handler(&reminders, Reminders::remind).unwrap();
    scheduler.start();
    assert!(eventually(Duration::from_secs(10), || async { reminders.count() >= 3 }).await);
    tokio::time::sleep(Duration::from_millis(500)).await;
    scheduler.stop().await;
    let mut names: Vec<String> = reminders
        .runs
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.name.clone())
        .collect();
    names.sort();
    assert_eq!(names, ["remind-1", "remind-2", "remind-3"]);
}

async fn a_cancelled_job_does_not_run(db: TestDb) {
    let scheduler = db.scheduler().await;
    let reminders = Arc::new(Reminders::default());
    scheduler
        .after(
            "maybe",
            Duration::from_millis(400),
            &reminders,
            Reminders::remind,
        )
        .await
        .unwrap();
    assert!(scheduler.cancel("maybe").await.unwrap());
    scheduler.start();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    scheduler.stop().await;
    assert_eq!(reminders.count(), 0);
    assert!(scheduler.records("maybe").await.unwrap().is_empty());
}

async fn a_claim_whose_runner_died_is_run_again(db: TestDb) {
    let scheduler = db.scheduler().await;
    let reminders = Arc::new(Reminders::default());
    scheduler
        .after("orphan", Duration::ZERO, &reminders, Reminders::remind)
        .await
        .unwrap();
    // A replica claimed it and died mid-run: its lease ran out a moment ago.
    let expired = Utc::now().timestamp_millis() - 1;
    db.connect()
        .await
        .execute_unprepared(&format!(
            "UPDATE microcore_jobs SET status = 'running', attempt = 1, claimed_by = 'dead-replica', \
             lease_until = {expired} WHERE name = 'orphan'"
        ))
        .await
        .unwrap();
    scheduler.start();
    assert!(eventually(Duration::from_secs(10), || async { reminders.count() >= 1 }).await);
    scheduler.stop().await;
    let runs = reminders.runs.lock().unwrap().clone();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].attempt, 2, "the second attempt of the job");
    let record = &scheduler.records("orphan").await.unwrap()[0];
    assert_eq!(record.status, JobStatus::Done);
    assert_eq!(record.claimed_by.as_deref(), Some(scheduler.instance()));
}

on_both_backends!(
    after_a_delay_fires_once,
    a_claim_whose_runner_died_is_run_again,
    due_while_down_runs_once_at_start,
    a_handler_registered_alone_runs_jobs_stored_before,
    a_cancelled_job_does_not_run,
);
