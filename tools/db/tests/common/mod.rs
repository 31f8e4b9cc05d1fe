//! A database of its own for each test: a SQLite file in a temporary
//! folder, or a PostgreSQL database `mc_test_<random>` on the local server,
//! dropped when the test ends (even when it fails).

#![allow(dead_code, unreachable_pub)]

use sea_orm::{ConnectionTrait, Database};

/// The server every PostgreSQL test creates its database on.
pub const POSTGRES_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// One test's database.
pub struct TestDb {
    pub url: String,
    /// The PostgreSQL database to drop at the end.
    pg_name: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// A SQLite file in a fresh temporary folder (created on first connection).
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

    /// Drops the PostgreSQL database now (the "database lost" case).
    pub async fn drop_database(&self) {
        if let Some(name) = &self.pg_name {
            drop_pg(name).await;
        }
    }

    /// Creates the PostgreSQL database again after [`TestDb::drop_database`].
    pub async fn recreate_database(&self) {
        if let Some(name) = &self.pg_name {
            let admin = Database::connect(POSTGRES_ADMIN).await.unwrap();
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .unwrap();
            drop(admin.close().await);
        }
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

/// Generates `<name>_sqlite` and `<name>_postgres` tests from
/// `async fn <name>(db: TestDb)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($crate::common::TestDb::sqlite().await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($crate::common::TestDb::postgres().await).await;
                }
            )*
        }
    };
}
