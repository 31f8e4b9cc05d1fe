//! The `scheduler` tool: cron and one-shot jobs that plugins declare in
//! `on_boot`, each fire run **once across all replicas**.
//!
//! A plugin names [`Scheduler`] as a field and hands it its own methods:
//!
//! ```
//! use std::time::Duration;
//! use microcore::prelude::*;
//! use microcore_scheduler::{JobRun, Scheduler};
//!
//! /// Sends the daily digest, and a one-off announcement.
//! #[plugin(domain = "mail")]
//! pub struct Digest {
//!     scheduler: Scheduler,
//! }
//!
//! impl Plugin for Digest {
//!     async fn on_boot(self: Arc<Self>) -> Result<()> {
//!         // Every day at 07:00:00 UTC (six fields: seconds first).
//!         self.scheduler.cron("daily-digest", "0 0 7 * * *", &self, Self::send)?;
//!         // Once, ten minutes after the first boot that declares it.
//!         self.scheduler.after("announce-v2", Duration::from_secs(600), &self, Self::announce).await?;
//!         Ok(())
//!     }
//! }
//!
//! impl Digest {
//!     async fn send(self: Arc<Self>, run: JobRun) -> Result<()> {
//!         tracing::info!("digest for {} (attempt {})", run.scheduled, run.attempt);
//!         Ok(())
//!     }
//!
//!     async fn announce(self: Arc<Self>, _run: JobRun) -> Result<()> {
//!         Ok(())
//!     }
//! }
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<()> {
//! # let plugin = Arc::new(Digest { scheduler: Scheduler::memory().await? });
//! # plugin.on_boot().await
//! # }
//! ```
//!
//! How it works, in short (the guide is `docs/scheduler.md`):
//! - Jobs live in the app's database, table `microcore_jobs` (created by
//!   the tool, on SQLite or PostgreSQL). One-shot jobs are rows stored when
//!   declared: they survive restarts and run once when due, even if no
//!   replica was up at that moment (the first one to start runs them).
//! - Every replica runs the same loop and races for each fire in the
//!   database: a cron fire is claimed by inserting the row keyed by the
//!   job's name and the fire time, a due one-shot job by a conditional
//!   `UPDATE`. Only the winner runs it.
//! - Missed-fire policy: cron fires missed while no replica ran are
//!   skipped; a replica running late runs only the latest fire it missed.
//! - A failing run (an error or a panic) is retried with exponential
//!   backoff, by any replica, up to `SCHEDULER_MAX_ATTEMPTS`, then marked
//!   `failed`; every run is logged and recorded in the registry.
//! - A replica that dies mid-run loses its claim when the lease runs out,
//!   and another replica runs the job again: at least once after a crash,
//!   exactly once otherwise.
//!
//! Settings ([`SchedulerSettings`]): `SCHEDULER_POLL_SECS` (1),
//! `SCHEDULER_MAX_ATTEMPTS` (3), `SCHEDULER_RETRY_BACKOFF_SECS` (1),
//! `SCHEDULER_LEASE_SECS` (60).

mod cron;
mod handle;
mod handlers;
mod job;
mod listing;
mod runner;
mod settings;
mod store;
mod tool;

pub use cron::is_valid_cron;
pub use handle::Scheduler;
pub use handlers::JobHandler;
pub use job::{JobKind, JobRecord, JobRun, JobStatus};
pub use listing::JobInfo;
pub use settings::SchedulerSettings;
pub use store::TABLE;
pub use tool::SchedulerTool;
