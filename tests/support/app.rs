//! The example app booted in process on a free port, on SQLite (a temp
//! file) or on a PostgreSQL database of its own (created and dropped).

use microcore::Running;
use microcore_event_bus::EventBus;
use microcore_http::Http;

use super::services::{self, REDIS};

/// The app booted on an in-memory SQLite database, on a free port, for
/// tests of what plugins declare rather than of what they store.
pub async fn boot_in_memory() -> Running {
    microcore_app::app()
        .with_var("HTTP_PORT", "0")
        .with_var("DATABASE_URL", "sqlite::memory:")
        .with_var("AI_CONTEXT_PATH", "")
        .boot()
        .await
        .expect("the example app boots")
}

/// Which backends a test runs on: SQLite with in-memory state, or
/// PostgreSQL with Redis state (the production pair).
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A booted example app; the database is removed when it is dropped.
pub struct TestApp {
    pub running: Option<Running>,
    pub base: String,
    pub bus: EventBus,
    pub client: reqwest::Client,
    pg_database: Option<String>,
    redis_prefix: Option<String>,
    _dir: tempfile::TempDir,
}

impl TestApp {
    /// Boots the app with `vars` on `backend`.
    pub async fn start(backend: Backend, vars: &[(&str, &str)]) -> Self {
        Self::start_via(backend, vars, 5432).await
    }

    /// Like [`TestApp::start`], reaching PostgreSQL through `pg_port` (a
    /// proxy the test controls).
    pub async fn start_via(backend: Backend, vars: &[(&str, &str)], pg_port: u16) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (url, pg_database) = match backend {
            Backend::Sqlite => (
                format!("sqlite://{}/app.db?mode=rwc", dir.path().display()),
                None,
            ),
            Backend::Postgres => {
                let name = services::unique_name();
                services::create_database(&name).await;
                (services::database_url(&name, pg_port), Some(name))
            }
        };
        let redis_prefix = pg_database.as_ref().map(|name| format!("{name}:"));
        let mut app = microcore_app::app()
            .with_var("HTTP_PORT", "0")
            .with_var("DATABASE_URL", url)
            .with_var("AI_CONTEXT_PATH", "")
            .with_var("AUTH_SECRET_KEY", "test-secret-key-of-at-least-32-bytes!!");
        if let Some(prefix) = &redis_prefix {
            app = app
                .with_var("STATE_URL", REDIS)
                .with_var("STATE_PREFIX", prefix.clone());
        }
        for (k, v) in vars {
            app = app.with_var(*k, *v);
        }
        let running = app.boot().await.expect("the example app boots");
        let addr = running.handle::<Http>().unwrap().local_addr().unwrap();
        let bus = running.handle::<EventBus>().unwrap();
        Self {
            running: Some(running),
            base: format!("http://{addr}"),
            bus,
            client: reqwest::Client::new(),
            pg_database,
            redis_prefix,
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Shuts the app down and drops its PostgreSQL database, if any.
    pub async fn stop(mut self) {
        if let Some(running) = self.running.take() {
            running.shutdown().await;
        }
        if let Some(prefix) = self.redis_prefix.take() {
            services::clear_redis_prefix(&prefix).await;
        }
        if let Some(name) = self.pg_database.take() {
            services::drop_database(&name).await;
        }
    }
}
