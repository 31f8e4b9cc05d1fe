//! The jobs of this process as the app's wiring shows them
//! (`/system/status`, `AI_CONTEXT.md`, `jobs`): what each one runs, when,
//! and how its last run went.

use chrono::{DateTime, Utc};
use microcore::Result;
use serde::Serialize;

use crate::Scheduler;
use crate::job::{JobKind, JobStatus};
use crate::store::Tally;

/// One job of the wiring: a cron job, or the handler of one-shot jobs
/// (those are many rows, one per `at`/`after` call, run by one method).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct JobInfo {
    /// The cron job's name; for one-shot jobs, the handler's key
    /// (`<domain>.<Plugin>.<method>`).
    pub name: String,
    /// Cron job or one-shot handler.
    pub kind: JobKind,
    /// The cron expression; `one-shot` for a handler.
    pub schedule: String,
    /// The plugin that declared it (`<domain>.<Plugin>`).
    pub plugin: String,
    /// The method it runs (`job` for a closure).
    pub method: String,
    /// When its last finished run ended, on any replica.
    pub last_run: Option<DateTime<Utc>>,
    /// Whether that run succeeded (`done`) or gave up (`failed`).
    pub last_status: Option<JobStatus>,
    /// When it runs next: the next cron fire (or an earlier retry), the
    /// earliest pending one-shot job.
    pub next_run: Option<DateTime<Utc>>,
    /// Rows waiting to run (retries included).
    pub pending: u64,
}

impl JobInfo {
    fn fold(&mut self, tally: &Tally) {
        match tally.status {
            JobStatus::Pending | JobStatus::Running => {
                self.pending += tally.rows;
                if tally.status == JobStatus::Pending {
                    self.next_run = earliest(self.next_run, Some(tally.due));
                }
            }
            JobStatus::Done | JobStatus::Failed => {
                if self.last_run.is_none_or(|last| tally.updated > last) {
                    self.last_run = Some(tally.updated);
                    self.last_status = Some(tally.status);
                }
            }
        }
    }
}

fn earliest(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[microcore::tool(part_of = Scheduler)]
impl Scheduler {
    /// The jobs this process declared, cron jobs by name first; no table
    /// read, so no run figures but the next cron fire.
    ///
    /// ```
    /// use microcore::prelude::*;
    /// use microcore_scheduler::{JobKind, JobRun, Scheduler};
    ///
    /// struct Report;
    /// impl Report {
    ///     async fn nightly(self: Arc<Self>, _run: JobRun) -> Result<()> { Ok(()) }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<()> {
    /// let scheduler = Scheduler::memory().await?;
    /// scheduler.cron("nightly-report", "0 30 2 * * *", &Arc::new(Report), Report::nightly)?;
    /// let jobs = scheduler.declared();
    /// assert_eq!((jobs[0].name.as_str(), jobs[0].kind), ("nightly-report", JobKind::Cron));
    /// assert_eq!((jobs[0].schedule.as_str(), jobs[0].method.as_str()), ("0 30 2 * * *", "nightly"));
    /// # Ok(()) }
    /// ```
    pub fn declared(&self) -> Vec<JobInfo> {
        let now = Utc::now();
        let jobs = self.core.jobs();
        let blank = |name: &str, kind, schedule: &str, plugin: &str, method: &str| JobInfo {
            name: name.to_string(),
            kind,
            schedule: schedule.to_string(),
            plugin: plugin.to_string(),
            method: method.to_string(),
            last_run: None,
            last_status: None,
            next_run: None,
            pending: 0,
        };
        let mut crons: Vec<JobInfo> = jobs
            .crons
            .iter()
            .map(|cron| {
                let method = jobs.handlers.get(&cron.handler).map_or("job", |h| h.method);
                JobInfo {
                    next_run: cron.schedule.next_after(now),
                    ..blank(&cron.name, JobKind::Cron, &cron.expr, cron.owner, method)
                }
            })
            .collect();
        crons.sort_by(|a, b| a.name.cmp(&b.name));
        let shots = jobs
            .handlers
            .iter()
            .filter(|(key, _)| !jobs.crons.iter().any(|c| &c.handler == *key))
            .map(|(key, h)| blank(key, JobKind::Once, "one-shot", h.owner, h.method));
        crons.into_iter().chain(shots).collect()
    }

    /// [`Scheduler::declared`] with last run, pending rows and next run
    /// from the job table (`/system/status`).
    ///
    /// ```
    /// use microcore::prelude::*;
    /// use microcore_scheduler::{JobRun, Scheduler};
    ///
    /// struct Welcome;
    /// impl Welcome {
    ///     async fn follow_up(self: Arc<Self>, _run: JobRun) -> Result<()> { Ok(()) }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<()> {
    /// let scheduler = Scheduler::memory().await?;
    /// let when = chrono::Utc::now() + chrono::TimeDelta::hours(1);
    /// scheduler.at("follow-up-7", when, &Arc::new(Welcome), Welcome::follow_up).await?;
    /// let jobs = scheduler.jobs().await?;
    /// assert_eq!((jobs[0].name.as_str(), jobs[0].pending), ("app.follow_up", 1));
    /// assert!(jobs[0].next_run.is_some_and(|next| next <= when));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// The database cannot be reached.
    pub async fn jobs(&self) -> Result<Vec<JobInfo>> {
        let mut jobs = self.declared();
        for tally in self.core.store.tallies().await? {
            let job = jobs
                .iter_mut()
                .find(|j| j.kind == tally.kind && j.name == tally.job);
            if let Some(job) = job {
                job.fold(&tally);
            }
        }
        Ok(jobs)
    }
}
