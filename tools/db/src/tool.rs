//! The db tool's lifecycle: connect and migrate at setup (a failure stops
//! the boot: the tool is critical), `SELECT 1` for health, close the pool
//! at shutdown.

use std::sync::OnceLock;

use microcore::prelude::*;
use microcore_calls::Calls;
use microcore_config::Config;
use sea_orm::ConnectionTrait;

use crate::Db;
use crate::migration::MIGRATIONS;
use crate::migrator::Selection;
use crate::settings::DbSettings;

/// The built-in db tool: sea-orm on SQLite (the default) or PostgreSQL.
#[tool]
#[derive(Debug)]
pub struct SeaOrmDb {
    config: Config,
    /// Where each query is reported (and timed, when someone records).
    calls: Calls,
    #[state]
    db: OnceLock<Db>,
}

impl Tool for SeaOrmDb {
    type Handle = Db;
    const CRITICAL: bool = true;
    const DRY_RUN: &'static [(&'static str, &'static str)] = &[("DATABASE_URL", "sqlite::memory:")];

    async fn setup(&self, _: &ToolContext) -> Result<Db> {
        let settings = DbSettings::from_config(&self.config)?;
        let db = Db::connect(&settings).await?;
        tracing::info!(
            "database {} ({:?}, pool of {})",
            settings.masked_url(),
            db.backend(),
            if settings.is_memory() {
                1
            } else {
                settings.pool_max
            }
        );
        if settings.auto_migrate {
            let applied = db.migrate_up(&MIGRATIONS, &Selection::default()).await?;
            if !applied.is_empty() {
                tracing::info!("{} migration(s) applied", applied.len());
            }
        }
        let _ = self.db.set(db.clone());
        Ok(db.with_calls(self.calls.clone()))
    }

    async fn shutdown(&self) -> Result<()> {
        if let Some(db) = self.db.get() {
            db.close_by_ref().await?;
        }
        Ok(())
    }

    async fn health(&self) -> Health {
        let Some(db) = self.db.get() else {
            return Health::Failing("not connected".into());
        };
        match db.execute_unprepared("SELECT 1").await {
            Ok(_) => Health::Ok,
            Err(e) => Health::Failing(crate::migrator::database_message(&e)),
        }
    }
}
