//! A database of its own for each test: a SQLite file in a temporary
//! folder, or a PostgreSQL database `mc_sched_<random>` on the local
//! server, dropped `WITH (FORCE)` when the test ends (even when it fails).

#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::time::Duration;

use microcore_db::{Db, DbSettings};
use microcore_scheduler::{Scheduler, SchedulerSettings};
use sea_orm::{ConnectionTrait, Database};

/// The server every PostgreSQL test creates its database on.
pub const POSTGRES_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// One test's database.
pub struct TestDb {
    pub url: String,
    pg_name: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// A SQLite file in a fresh temporary folder.
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("jobs.db").display());
        Self {
            url,
            pg_name: None,
            _dir: Some(dir),
        }
    }

    /// A fresh PostgreSQL database.
    pub async fn postgres() -> Self {
        let name = format!("mc_sched_{}", uuid::Uuid::new_v4().simple());
        let admin = Database::connect(POSTGRES_ADMIN)
            .await
            .expect("PostgreSQL runs on 127.0.0.1:5432");
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .expect("CREATE DATABASE");
        drop(admin.close().await);
        Self {
            url: format!("postgres://postgres@127.0.0.1:5432/{name}"),
            pg_name: Some(name),
            _dir: None,
        }
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

async fn drop_pg(name: &str) {
    if let Ok(admin) = Database::connect(POSTGRES_ADMIN).await {
        let _ = admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await;
        drop(admin.close().await);
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.pg_name.take() else {
            return;
        };
        // Drop runs inside the test's runtime, which cannot be blocked on:
        // clean up from a thread with a runtime of its own.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(drop_pg(&name));
        });
        let _ = cleanup.join();
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

/// Generates `sqlite::<name>` and `postgres::<name>` tests from
/// `async fn <name>(db: TestDb)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::TestDb::sqlite().await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::TestDb::postgres().await).await;
                }
            )*
        }
    };
}
