//! What the scheduler's suites share: a database of its own for each test
//! (see `microcore-test-support`) with a scheduler on it, quick settings,
//! waiting for a condition, and the check that fires ran once each.

#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::ops::Deref;
use std::time::Duration;

use microcore_db::{Db, DbSettings};
use microcore_scheduler::{JobRecord, JobStatus, Scheduler, SchedulerSettings};

/// One test's database, with the scheduler's shortcuts.
pub struct TestDb(microcore_test_support::TestDb);

impl Deref for TestDb {
    type Target = microcore_test_support::TestDb;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl TestDb {
    /// A SQLite file in a fresh temporary folder.
    pub async fn sqlite() -> Self {
        Self(microcore_test_support::TestDb::sqlite().await)
    }

    /// A fresh PostgreSQL database.
    pub async fn postgres() -> Self {
        Self(microcore_test_support::TestDb::postgres().await)
    }

    /// A new connection pool to this database (a replica of its own).
    pub async fn connect(&self) -> Db {
        Db::connect(&DbSettings::for_url(self.url.clone()))
            .await
            .expect("the test database answers")
    }

    /// A scheduler on a new connection, with quick settings.
    pub async fn scheduler(&self) -> Scheduler {
        Scheduler::new(self.connect().await, quick())
            .await
            .expect("the job table is created")
    }
}

/// Settings for tests: poll often, retry soon.
pub fn quick() -> SchedulerSettings {
    SchedulerSettings {
        poll: Duration::from_millis(100),
        max_attempts: 3,
        backoff: Duration::from_millis(100),
        lease: Duration::from_secs(10),
    }
}

/// Waits until `done` says yes, checking every 50 ms, for at most `limit`;
/// whether it did.
pub async fn eventually<F, Fut>(limit: Duration, mut done: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if done().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Asserts that every record is done on its first attempt, run by one of
/// `instances`.
pub fn assert_done_first_time(records: &[JobRecord], instances: &[&str]) {
    assert!(
        records
            .iter()
            .all(|r| r.status == JobStatus::Done && r.attempts == 1),
        "{records:?}"
    );
    assert!(
        records
            .iter()
            .all(|r| instances.contains(&r.claimed_by.as_deref().unwrap_or(""))),
        "not all run by {instances:?}: {records:?}"
    );
}

/// [`microcore_test_support::on_both_backends!`] on a runtime of two
/// threads: the scheduler's loop runs beside the test that waits on it.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        microcore_test_support::on_both_backends!(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            $($name),*
        );
    };
}
