//! The scheduler tool's lifecycle: create the job table at setup, start the
//! loop once every plugin has declared its jobs (`on_boot_complete`), forget
//! the jobs of a plugin that died, stop claiming and finish the runs in
//! flight when the app drains.

use std::sync::OnceLock;

use microcore::prelude::*;
use microcore_calls::Calls;
use microcore_config::Config;
use microcore_db::Db;

use crate::{Scheduler, SchedulerSettings};

/// The built-in scheduler tool: jobs in the app's database (`db` tool).
///
/// Linking the crate is enough; an app (here one made of the config, calls, db and
/// scheduler tools only) boots it like any other tool:
///
/// ```
/// use microcore::App;
/// use microcore_scheduler::Scheduler;
/// use microcore_calls as _; // linkme keeps only the tools of named crates
/// use microcore_config as _;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let tools = microcore::TOOLS.iter().filter(|t| ["config", "calls", "db", "scheduler"].contains(&t.name));
/// let running = App::new(tools.collect(), vec![])
///     .with_var("DATABASE_URL", "sqlite::memory:")
///     .boot()
///     .await
///     .unwrap();
/// assert!(running.handle::<Scheduler>().unwrap().is_running());
/// running.shutdown().await;
/// # }
/// ```
#[tool]
#[derive(Debug)]
pub struct SchedulerTool {
    config: Config,
    db: Db,
    /// Where each run is reported.
    calls: Calls,
    #[state]
    scheduler: OnceLock<Scheduler>,
}

impl Tool for SchedulerTool {
    type Handle = Scheduler;

    async fn setup(&self, _: &ToolContext) -> Result<Scheduler> {
        let settings = SchedulerSettings::from_config(&self.config)?;
        let scheduler = Scheduler::new(self.db.clone(), settings)
            .await?
            .with_calls(self.calls.clone());
        tracing::info!(
            instance = scheduler.instance(),
            "scheduler ready (poll every {} s, {} attempt(s) per job)",
            settings.poll.as_secs_f32(),
            settings.max_attempts
        );
        let _ = self.scheduler.set(scheduler.clone());
        Ok(scheduler)
    }

    async fn on_boot_complete(&self) -> Result<()> {
        if let Some(scheduler) = self.scheduler.get() {
            scheduler.start();
        }
        Ok(())
    }

    fn withdraw(&self, plugin: &str) {
        if let Some(scheduler) = self.scheduler.get() {
            scheduler.withdraw(plugin);
        }
    }

    async fn drain(&self) {
        if let Some(scheduler) = self.scheduler.get() {
            scheduler.stop().await;
        }
    }

    async fn shutdown(&self) -> Result<()> {
        if let Some(scheduler) = self.scheduler.get() {
            scheduler.stop().await;
        }
        Ok(())
    }

    async fn health(&self) -> Health {
        match self.scheduler.get() {
            None => Health::Failing("not set up".into()),
            Some(scheduler) => match scheduler.ping().await {
                Ok(()) => Health::Ok,
                Err(e) => Health::Failing(format!("cannot read the job table: {}", e.chain())),
            },
        }
    }
}
