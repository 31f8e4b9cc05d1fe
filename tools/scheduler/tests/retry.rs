//! Failing jobs: retried with backoff up to the attempt limit, then marked
//! failed in the job table, each attempt recorded in the registry; a panic
//! counts as a failure, and a retry that succeeds ends the story.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{TestDb, eventually};
use microcore::{Error, Result};
use microcore_calls::{Call, Calls, Recorder};
use microcore_scheduler::{JobRun, JobStatus};

/// Keeps the calls the scheduler reports.
#[derive(Debug, Default)]
struct Kept(Mutex<Vec<Call>>);

impl Recorder for Kept {
    fn call(&self, call: Call) {
        self.0.lock().unwrap().push(call);
    }
}

#[derive(Default)]
struct Flaky {
    attempts: Mutex<Vec<u32>>,
}

impl Flaky {
    async fn always_fails(self: Arc<Self>, run: JobRun) -> Result<()> {
        self.attempts.lock().unwrap().push(run.attempt);
        Err(Error::unavailable(std::io::Error::other(
            "the mail server is down",
        )))
    }

    async fn panics_once(self: Arc<Self>, run: JobRun) -> Result<()> {
        self.attempts.lock().unwrap().push(run.attempt);
        if run.attempt == 1 {
            panic!("first attempt blows up");
        }
        Ok(())
    }

    fn attempts(&self) -> Vec<u32> {
        self.attempts.lock().unwrap().clone()
    }
}

async fn a_failing_job_is_retried_then_marked_failed(db: TestDb) {
    let kept = Arc::new(Kept::default());
    let calls = Calls::default();
    calls.set_recorder(kept.clone());
    let scheduler = db.scheduler().await.with_calls(calls);
    let flaky = Arc::new(Flaky::default());
    scheduler
        .after("send-mail", Duration::ZERO, &flaky, Flaky::always_fails)
        .await
        .unwrap();
    scheduler.start();
    let failed = eventually(Duration::from_secs(15), || async {
        let records = scheduler.records("send-mail").await.unwrap();
        records
            .first()
            .is_some_and(|r| r.status == JobStatus::Failed)
    })
    .await;
    // Well past the backoff: no fourth attempt comes.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    scheduler.stop().await;
    assert!(
        failed,
        "the job was not marked failed within 15 s: {:?}",
        flaky.attempts()
    );

    assert_eq!(flaky.attempts(), [1, 2, 3]);
    let record = &scheduler.records("send-mail").await.unwrap()[0];
    assert_eq!(record.attempts, 3);
    let error = record.last_error.as_deref().unwrap_or_default();
    assert!(error.contains("the mail server is down"), "{error}");

    let calls = kept.0.lock().unwrap().clone();
    let runs: Vec<&Call> = calls.iter().filter(|c| c.tool == "scheduler").collect();
    assert_eq!(runs.len(), 3, "{calls:?}");
    assert!(
        runs.iter()
            .all(|c| c.method == "always_fails" && c.owner == "app" && !c.ok)
    );
}

async fn a_panic_is_a_failure_and_the_retry_succeeds(db: TestDb) {
    let scheduler = db.scheduler().await;
    let flaky = Arc::new(Flaky::default());
    scheduler
        .after("fragile", Duration::ZERO, &flaky, Flaky::panics_once)
        .await
        .unwrap();
    scheduler.start();
    let done = eventually(Duration::from_secs(15), || async {
        let records = scheduler.records("fragile").await.unwrap();
        records.first().is_some_and(|r| r.status == JobStatus::Done)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    scheduler.stop().await;
    assert!(
        done,
        "the retry did not succeed within 15 s: {:?}",
        flaky.attempts()
    );
    assert_eq!(flaky.attempts(), [1, 2]);
    let record = &scheduler.records("fragile").await.unwrap()[0];
    assert_eq!(record.attempts, 2);
    assert_eq!(record.last_error, None);
}

on_both_backends!(
    a_failing_job_is_retried_then_marked_failed,
    a_panic_is_a_failure_and_the_retry_succeeds,
);
