//! What the workspace's test suites share: a database of its own for each
//! test, a SQLite file in a temporary folder or a PostgreSQL database
//! `mc_test_<random>` on the local server, dropped `WITH (FORCE)` when the
//! test ends (even when it fails); [`on_both_backends!`] to run one test
//! on each; and a TCP [`proxy`] to cut a server away from the app and
//! restore it.
//!
//! The server is the shared one (CI and developers alike): a test creates
//! and drops only its own database, never stops the server.

pub mod proxy;
pub mod redis_keys;

use sea_orm::{ConnectionTrait, Database, DbErr};

/// The server every PostgreSQL test creates its database on.
pub const POSTGRES_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The URL of database `name` reached through `port` (5432, or a proxy the
/// test controls).
pub fn database_url(name: &str, port: u16) -> String {
    format!("postgres://postgres@127.0.0.1:{port}/{name}")
}

/// Creates the PostgreSQL database `name`.
///
/// # Panics
/// When the server does not answer or refuses.
pub async fn create_database(name: &str) {
    let admin = Database::connect(POSTGRES_ADMIN)
        .await
        .expect("PostgreSQL runs on 127.0.0.1:5432");
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("CREATE DATABASE");
    drop(admin.close().await);
}

/// Drops the database `name`, closing whatever still holds a connection.
///
/// # Panics
/// When the server does not answer or refuses.
pub async fn drop_database(name: &str) {
    try_drop_database(name).await.expect("DROP DATABASE");
}

async fn try_drop_database(name: &str) -> Result<(), DbErr> {
    let admin = Database::connect(POSTGRES_ADMIN).await?;
    let dropped = admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await;
    drop(admin.close().await);
    dropped.map(drop)
}

/// One test's database, removed when dropped.
///
/// ```no_run
/// use microcore_test_support::TestDb;
///
/// # async fn a_test() {
/// let db = TestDb::postgres().await; // or TestDb::sqlite()
/// assert!(db.url.starts_with("postgres://"));
/// // ... boot a tool or the app with DATABASE_URL = db.url ...
/// # }
/// ```
#[derive(Debug)]
pub struct TestDb {
    /// The URL to connect to (`DATABASE_URL`).
    pub url: String,
    /// The PostgreSQL database to drop at the end.
    pg_name: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// A SQLite file in a fresh temporary folder (created on first
    /// connection).
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
        Self {
            url,
            pg_name: None,
            _dir: Some(dir),
        }
    }

    /// A fresh PostgreSQL database.
    pub async fn postgres() -> Self {
        let name = format!("mc_test_{}", uuid::Uuid::new_v4().simple());
        create_database(&name).await;
        Self {
            url: database_url(&name, 5432),
            pg_name: Some(name),
            _dir: None,
        }
    }

    /// Drops the PostgreSQL database now (the "database lost" case).
    pub async fn drop_database(&self) {
        if let Some(name) = &self.pg_name {
            drop_database(name).await;
        }
    }

    /// Creates the PostgreSQL database again after [`TestDb::drop_database`].
    pub async fn recreate_database(&self) {
        if let Some(name) = &self.pg_name {
            create_database(name).await;
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.pg_name.take() else {
            return;
        };
        // Drop runs inside the test's runtime, which cannot be blocked on:
        // clean up from a thread with a runtime of its own. Best effort: a
        // failing test must show its own failure, not the clean-up's.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            let _ = runtime.block_on(try_drop_database(&name));
        });
        let _ = cleanup.join();
    }
}

/// Generates `sqlite::<name>` and `postgres::<name>` tests from each
/// `async fn <name>(db: TestDb)` of the calling module, where `TestDb` is in
/// scope (this crate's, or a suite's own type with the same two
/// constructors). The test attribute is `#[tokio::test]` unless one is
/// given first.
///
/// ```text
/// on_both_backends!(applies_in_order, refuses_a_changed_file);
/// on_both_backends!(#[tokio::test(flavor = "multi_thread")] two_replicas);
/// ```
#[macro_export]
macro_rules! on_both_backends {
    (#[$test:meta] $($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[$test]
                async fn $name() {
                    super::$name(super::TestDb::sqlite().await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[$test]
                async fn $name() {
                    super::$name(super::TestDb::postgres().await).await;
                }
            )*
        }
    };
    ($($name:ident),* $(,)?) => {
        $crate::on_both_backends!(#[tokio::test] $($name),*);
    };
}
