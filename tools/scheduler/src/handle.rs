//! [`Scheduler`], what a plugin holds: declare cron and one-shot jobs whose
//! handlers are the plugin's own methods; look at how they went.

use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use microcore::sync::lock;
use std::time::Duration;

use chrono::{DateTime, Utc};
use microcore::{Error, Result, ToolHandle};
use microcore_calls::Calls;
use microcore_db::Db;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::cron::Schedule;
use crate::handlers::{CronJob, JobHandler, Jobs, erase};
use crate::store::Store;
use crate::{JobRecord, SchedulerSettings, runner};

/// The scheduler, as a plugin sees it.
///
/// Declare jobs in `on_boot`; they start running once every plugin has
/// booted. Each fire of a job runs once across all replicas sharing the
/// database, whatever their number.
///
/// ```
/// use std::time::Duration;
/// use microcore::prelude::*;
/// use microcore_scheduler::{JobRun, Scheduler};
///
/// /// Purges expired sessions every five minutes, and says hello once.
/// #[plugin(domain = "docs")]
/// pub struct Housekeeping {
///     scheduler: Scheduler,
/// }
///
/// impl Plugin for Housekeeping {
///     async fn on_boot(self: Arc<Self>) -> Result<()> {
///         self.scheduler.cron("purge-sessions", "0 */5 * * * *", &self, Self::purge)?;
///         self.scheduler.after("hello", Duration::from_secs(10), &self, Self::hello).await?;
///         Ok(())
///     }
/// }
///
/// impl Housekeeping {
///     async fn purge(self: Arc<Self>, run: JobRun) -> Result<()> {
///         tracing::info!("purging sessions for the fire of {}", run.scheduled);
///         Ok(())
///     }
///
///     async fn hello(self: Arc<Self>, _run: JobRun) -> Result<()> {
///         Ok(())
///     }
/// }
///
/// // A test builds the plugin as a struct literal on an in-memory scheduler.
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<()> {
/// let plugin = Arc::new(Housekeeping { scheduler: Scheduler::memory().await? });
/// plugin.clone().on_boot().await?;
/// plugin.clone().purge(JobRun::new("purge-sessions", chrono::Utc::now())).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Scheduler {
    pub(crate) core: Arc<Core>,
    owner: &'static str,
}

/// What every copy of one scheduler shares.
pub(crate) struct Core {
    pub(crate) store: Store,
    pub(crate) settings: SchedulerSettings,
    /// Who claims: written in `claimed_by`, unique per scheduler.
    pub(crate) instance: String,
    pub(crate) jobs: Mutex<Jobs>,
    /// Wakes the loop: a job was declared.
    pub(crate) wake: Notify,
    /// Where each run is reported as a call (set by the tool).
    pub(crate) calls: OnceLock<Calls>,
    /// The loop's last database error, cleared when it works again.
    pub(crate) trouble: Mutex<Option<String>>,
    running: Mutex<Option<Running>>,
}

struct Running {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler")
            .field("instance", &self.core.instance)
            .field("owner", &self.owner)
            .field("settings", &self.core.settings)
            .field("jobs", &*self.core.jobs())
            .finish()
    }
}

impl ToolHandle for Scheduler {
    const NAME: &'static str = "scheduler";

    fn for_owner(&self, owner: &'static str) -> Self {
        Self {
            core: self.core.clone(),
            owner,
        }
    }
}

impl Core {
    pub(crate) fn jobs(&self) -> MutexGuard<'_, Jobs> {
        lock(&self.jobs)
    }
}

fn check_name(name: &str) -> Result<()> {
    if name.trim().is_empty() {
        return Err(Error::internal(
            "scheduler: a job needs a name: write `scheduler.cron(\"nightly-report\", ...)`",
        ));
    }
    Ok(())
}

#[microcore::tool(guide = "../AI.md")]
impl Scheduler {
    /// A scheduler on `db`, creating its table (`microcore_jobs`) if
    /// missing. It runs nothing until [`Scheduler::start`] (the tool starts
    /// it once every plugin has booted).
    ///
    /// ```
    /// use microcore_db::Db;
    /// use microcore_scheduler::{Scheduler, SchedulerSettings};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> microcore::Result<()> {
    /// let db = Db::memory_with(&[]).await?;
    /// let scheduler = Scheduler::new(db, SchedulerSettings::default()).await?;
    /// assert!(!scheduler.is_running());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// When the table cannot be created (the database is unreachable:
    /// [`ErrorKind::Unavailable`](microcore::ErrorKind::Unavailable)).
    pub async fn new(db: Db, settings: SchedulerSettings) -> Result<Self> {
        let store = Store::new(db);
        store.create().await?;
        let id = uuid::Uuid::new_v4().simple().to_string();
        let core = Core {
            store,
            settings,
            instance: format!("{}-{}", std::process::id(), &id[..12]),
            jobs: Mutex::default(),
            wake: Notify::new(),
            calls: OnceLock::new(),
            trouble: Mutex::default(),
            running: Mutex::default(),
        };
        Ok(Self {
            core: Arc::new(core),
            owner: "app",
        })
    }

    /// A scheduler on a fresh in-memory SQLite database with the default
    /// settings: the test kit, for a plugin built as a struct literal.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> microcore::Result<()> {
    /// let scheduler = microcore_scheduler::Scheduler::memory().await?;
    /// assert!(scheduler.records("nothing").await?.is_empty());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Only if SQLite cannot open a memory database.
    pub async fn memory() -> Result<Self> {
        Self::new(Db::memory_with(&[]).await?, SchedulerSettings::default()).await
    }

    /// This scheduler, reporting its runs to `calls`. Each run is reported
    /// (tool `scheduler`, the handler's method and plugin, duration, success).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> microcore::Result<()> {
    /// let scheduler = microcore_scheduler::Scheduler::memory().await?
    ///     .with_calls(microcore_calls::Calls::default());
    /// # drop(scheduler); Ok(()) }
    /// ```
    pub fn with_calls(self, calls: Calls) -> Self {
        let _ = self.core.calls.set(calls);
        self
    }

    /// This scheduler's id, as written in the `claimed_by` column of the
    /// jobs it ran (`<pid>-<random>`).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> microcore::Result<()> {
    /// let a = microcore_scheduler::Scheduler::memory().await?;
    /// let b = microcore_scheduler::Scheduler::memory().await?;
    /// assert_ne!(a.instance(), b.instance());
    /// # Ok(()) }
    /// ```
    pub fn instance(&self) -> &str {
        &self.core.instance
    }

    /// The settings it runs with.
    pub fn settings(&self) -> SchedulerSettings {
        self.core.settings
    }

    /// Runs `handler`, a method of `plugin`, at every fire of cron
    /// expression `expr` (UTC; six fields with seconds first, or the
    /// classic five), each fire once across all replicas.
    ///
    /// Fires missed while no replica was running are skipped; a replica
    /// that wakes late runs only the latest fire it missed. See
    /// `docs/scheduler.md`.
    ///
    /// ```
    /// use microcore::prelude::*;
    /// use microcore_scheduler::{JobRun, Scheduler};
    ///
    /// struct Report;
    /// impl Report {
    ///     async fn nightly(self: Arc<Self>, _run: JobRun) -> Result<()> { Ok(()) }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<()> {
    /// let scheduler = Scheduler::memory().await?;
    /// let report = Arc::new(Report);
    /// scheduler.cron("nightly-report", "0 30 2 * * *", &report, Report::nightly)?;
    /// let bad = scheduler.cron("typo", "0 61 * * * *", &report, Report::nightly);
    /// assert!(bad.unwrap_err().to_string().starts_with("job 'typo': cron expression '0 61 * * * *' is invalid"));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// An invalid expression (or one that never fires), a name declared
    /// twice, or another function already registered under this handler's
    /// key.
    pub fn cron<P, F, A>(&self, name: &str, expr: &str, plugin: &Arc<P>, handler: F) -> Result<()>
    where
        P: Send + Sync + 'static,
        F: JobHandler<P, A> + Clone,
    {
        check_name(name)?;
        let schedule = Schedule::parse(name, expr)?;
        let (key, registered) = erase(self.owner, name, plugin, handler);
        let job = CronJob {
            name: name.to_string(),
            expr: expr.to_string(),
            schedule,
            handler: key,
            owner: self.owner,
        };
        self.core.jobs().add_cron(job, registered)?;
        tracing::debug!(
            job = name,
            cron = expr,
            owner = self.owner,
            "cron job declared"
        );
        self.core.wake.notify_one();
        Ok(())
    }

    /// Runs `handler`, a method of `plugin`, once at `time` (or as soon as
    /// a replica runs, if `time` passed while none was up), once across all
    /// replicas. The job is stored in the database under `name`.
    ///
    /// Returns `true` if this call stored it, `false` if a job of that name
    /// was already stored (pending, done or failed): its time is kept and
    /// it does not run again. So declaring a one-shot job in `on_boot`, at
    /// every boot, runs it once, ever; [`Scheduler::cancel`] forgets it.
    ///
    /// ```
    /// use microcore::prelude::*;
    /// use microcore_scheduler::{JobRun, Scheduler};
    ///
    /// struct Launch;
    /// impl Launch {
    ///     async fn open_doors(self: Arc<Self>, _run: JobRun) -> Result<()> { Ok(()) }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<()> {
    /// let scheduler = Scheduler::memory().await?;
    /// let launch = Arc::new(Launch);
    /// let when = chrono::Utc::now() + chrono::TimeDelta::days(1);
    /// assert!(scheduler.at("open-doors", when, &launch, Launch::open_doors).await?);
    /// assert!(!scheduler.at("open-doors", when, &launch, Launch::open_doors).await?);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// The database cannot be reached (503), or another function is
    /// already registered under this handler's key.
    pub async fn at<P, F, A>(
        &self,
        name: &str,
        time: DateTime<Utc>,
        plugin: &Arc<P>,
        handler: F,
    ) -> Result<bool>
    where
        P: Send + Sync + 'static,
        F: JobHandler<P, A> + Clone,
    {
        check_name(name)?;
        let (key, registered) = erase(self.owner, name, plugin, handler);
        self.core.jobs().add_handler(key.clone(), registered)?;
        let stored = self
            .core
            .store
            .insert_once(name, &key, time, Utc::now())
            .await?;
        tracing::debug!(job = name, at = %time, stored, owner = self.owner, "one-shot job declared");
        self.core.wake.notify_one();
        Ok(stored)
    }

    /// [`Scheduler::at`] `delay` from now.
    ///
    /// ```
    /// use std::time::Duration;
    /// use microcore::prelude::*;
    /// use microcore_scheduler::{JobRun, Scheduler};
    ///
    /// struct Welcome;
    /// impl Welcome {
    ///     async fn follow_up(self: Arc<Self>, run: JobRun) -> Result<()> {
    ///         let user_id = run.name.trim_start_matches("follow-up-");
    ///         tracing::info!("following up with user {user_id}");
    ///         Ok(())
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<()> {
    /// let scheduler = Scheduler::memory().await?;
    /// let welcome = Arc::new(Welcome);
    /// // One job per user, named after it: the name is the job's data.
    /// scheduler.after("follow-up-42", Duration::from_secs(3600), &welcome, Welcome::follow_up).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`Scheduler::at`].
    pub async fn after<P, F, A>(
        &self,
        name: &str,
        delay: Duration,
        plugin: &Arc<P>,
        handler: F,
    ) -> Result<bool>
    where
        P: Send + Sync + 'static,
        F: JobHandler<P, A> + Clone,
    {
        let delay = chrono::TimeDelta::from_std(delay).map_err(|_| {
            Error::internal(format!(
                "scheduler: job '{name}': a delay of {delay:?} is too long"
            ))
        })?;
        let time = Utc::now().checked_add_signed(delay).ok_or_else(|| {
            Error::internal(format!("scheduler: job '{name}': the delay is too long"))
        })?;
        self.at(name, time, plugin, handler).await
    }

    /// Registers `handler`, a method of `plugin`, for one-shot jobs stored
    /// earlier (by this process before a restart, or by another replica)
    /// without scheduling anything.
    ///
    /// A job stored with [`Scheduler::at`] names its handler
    /// `<plugin>.<method>`; a replica runs it only if that handler is
    /// registered there. Declaring one-shot jobs at run time (one per user,
    /// say) therefore needs this line in `on_boot`, so the jobs still run
    /// after a restart.
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
    /// scheduler.handler(&Arc::new(Welcome), Welcome::follow_up)?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Another function is already registered under this handler's key.
    pub fn handler<P, F, A>(&self, plugin: &Arc<P>, handler: F) -> Result<()>
    where
        P: Send + Sync + 'static,
        F: JobHandler<P, A> + Clone,
    {
        let (key, registered) = erase(self.owner, "job", plugin, handler);
        self.core.jobs().add_handler(key, registered)?;
        self.core.wake.notify_one();
        Ok(())
    }

    /// Forgets one-shot job `name` unless it is running now: it will not
    /// run (if pending), and `at` may store it again. `true` if it existed.
    ///
    /// ```
    /// use std::time::Duration;
    /// use microcore::prelude::*;
    /// use microcore_scheduler::{JobRun, Scheduler};
    ///
    /// struct Trial;
    /// impl Trial {
    ///     async fn expire(self: Arc<Self>, _run: JobRun) -> Result<()> { Ok(()) }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<()> {
    /// let scheduler = Scheduler::memory().await?;
    /// let trial = Arc::new(Trial);
    /// scheduler.after("expire-7", Duration::from_secs(600), &trial, Trial::expire).await?;
    /// assert!(scheduler.cancel("expire-7").await?);
    /// assert!(!scheduler.cancel("expire-7").await?);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// The database cannot be reached.
    pub async fn cancel(&self, name: &str) -> Result<bool> {
        self.core.store.cancel(name).await
    }

    /// What the job table holds about job `name`, by scheduled time. That
    /// is the one row of a one-shot job, or the recent fires of a cron job
    /// (finished fires are kept an hour, failed ones a week).
    ///
    /// ```
    /// use microcore::prelude::*;
    /// use microcore_scheduler::{JobRun, JobStatus, Scheduler};
    ///
    /// struct Launch;
    /// impl Launch {
    ///     async fn go(self: Arc<Self>, _run: JobRun) -> Result<()> { Ok(()) }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<()> {
    /// let scheduler = Scheduler::memory().await?;
    /// let when = chrono::Utc::now() + chrono::TimeDelta::hours(1);
    /// scheduler.at("launch", when, &Arc::new(Launch), Launch::go).await?;
    /// let rows = scheduler.records("launch").await?;
    /// assert_eq!(rows[0].status, JobStatus::Pending);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// The database cannot be reached.
    pub async fn records(&self, name: &str) -> Result<Vec<JobRecord>> {
        self.core.store.records(name).await
    }

    /// Starts running jobs (the tool calls it once every plugin has
    /// booted); does nothing if started already. Needs a tokio runtime.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// use std::time::Duration;
    /// use microcore::prelude::*;
    /// use microcore_scheduler::{JobRun, Scheduler};
    ///
    /// #[derive(Default)]
    /// struct Beat(AtomicU32);
    /// impl Beat {
    ///     async fn beat(self: Arc<Self>, _run: JobRun) -> Result<()> {
    ///         self.0.fetch_add(1, Ordering::SeqCst);
    ///         Ok(())
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<()> {
    /// let scheduler = Scheduler::memory().await?;
    /// let beat = Arc::new(Beat::default());
    /// scheduler.after("now", Duration::ZERO, &beat, Beat::beat).await?;
    /// scheduler.start();
    /// assert!(scheduler.is_running());
    /// while beat.0.load(Ordering::SeqCst) == 0 {
    ///     tokio::time::sleep(Duration::from_millis(20)).await;
    /// }
    /// scheduler.stop().await; // waits for runs in flight
    /// assert!(!scheduler.is_running());
    /// # Ok(()) }
    /// ```
    pub fn start(&self) {
        let mut running = lock(&self.core.running);
        if running.is_some() {
            return;
        }
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(runner::run(self.core.clone(), stopped));
        *running = Some(Running { stop, task });
    }

    /// Stops claiming jobs and waits for the runs in flight to finish (the
    /// tool calls it when the app drains). Jobs not finished stay claimed
    /// until their lease runs out, then another replica runs them.
    pub async fn stop(&self) {
        let running = lock(&self.core.running).take();
        if let Some(Running { stop, task }) = running {
            stop.send_replace(true);
            let _ = task.await;
        }
    }

    /// Whether the loop runs (between [`Scheduler::start`] and [`Scheduler::stop`]).
    pub fn is_running(&self) -> bool {
        lock(&self.core.running).is_some()
    }

    /// Checks that the job table answers now (the tool's health check).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> microcore::Result<()> {
    /// microcore_scheduler::Scheduler::memory().await?.ping().await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// The database's error (503 when it cannot be reached).
    pub async fn ping(&self) -> Result<()> {
        self.core.store.ping().await
    }

    /// Forgets the jobs and handlers `owner` declared (a plugin that died
    /// during boot).
    pub(crate) fn withdraw(&self, owner: &str) {
        self.core.jobs().withdraw(owner);
    }
}
