//! What a job handler receives ([`JobRun`]) and what the job table says
//! about a job ([`JobRecord`]): the vocabulary shared by the handle, the
//! store and the loop.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// A recurring job (cron expression) or a one-shot job (a time, a delay).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobKind {
    /// One fire of a cron job.
    Cron,
    /// A one-shot job.
    Once,
}

impl JobKind {
    /// The word stored in the `kind` column (`cron`, `once`).
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Cron => "cron",
            JobKind::Once => "once",
        }
    }

    pub(crate) fn parse(s: &str) -> Self {
        if s == "cron" {
            JobKind::Cron
        } else {
            JobKind::Once
        }
    }
}

/// One run of a job, as its handler receives it.
///
/// A plugin test builds one by hand:
///
/// ```
/// use microcore_scheduler::{JobKind, JobRun};
///
/// let run = JobRun::new("nightly-report", chrono::Utc::now());
/// assert_eq!(run.attempt, 1);
/// assert_eq!(run.kind, JobKind::Once);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRun {
    /// The job's name, as declared.
    pub name: String,
    /// The time this fire was scheduled for (not when it started: a retry
    /// or a late replica runs later). The same for every attempt, so a
    /// handler can use it as an idempotency key.
    pub scheduled: DateTime<Utc>,
    /// 1 for the first run, 2 for the first retry, and so on.
    pub attempt: u32,
    /// Cron fire or one-shot.
    pub kind: JobKind,
}

impl JobRun {
    /// A first attempt of one-shot job `name` scheduled at `scheduled`
    /// (for tests of a handler).
    pub fn new(name: impl Into<String>, scheduled: DateTime<Utc>) -> Self {
        Self {
            name: name.into(),
            scheduled,
            attempt: 1,
            kind: JobKind::Once,
        }
    }
}

/// Where a job (a one-shot job, or one fire of a cron job) stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Waiting for its time (a first run or a retry).
    Pending,
    /// Claimed by one scheduler, which is running it.
    Running,
    /// Ran successfully.
    Done,
    /// Failed on every attempt; `last_error` says why.
    Failed,
}

impl JobStatus {
    /// The word stored in the `status` column (`pending`, `running`, `done`, `failed`).
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Pending => "pending",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Failed => "failed",
        }
    }

    pub(crate) fn parse(s: &str) -> Self {
        match s {
            "running" => JobStatus::Running,
            "done" => JobStatus::Done,
            "failed" => JobStatus::Failed,
            _ => JobStatus::Pending,
        }
    }
}

/// One row of the job table: a one-shot job, or one fire of a cron job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobRecord {
    /// The job's name.
    pub name: String,
    /// Cron fire or one-shot.
    pub kind: JobKind,
    /// The time it was scheduled for.
    pub scheduled: DateTime<Utc>,
    /// When it may run next (later than `scheduled` while a retry waits).
    pub due: DateTime<Utc>,
    /// Pending, running, done or failed.
    pub status: JobStatus,
    /// How many runs were started.
    pub attempts: u32,
    /// The scheduler instance that ran it last (see [`Scheduler::instance`](crate::Scheduler::instance)).
    pub claimed_by: Option<String>,
    /// The error of the last failed run.
    pub last_error: Option<String>,
    /// When the row last changed.
    pub updated: DateTime<Utc>,
}
