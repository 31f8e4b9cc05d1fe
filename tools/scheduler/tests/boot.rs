//! The tool inside a booted app: plugins declare jobs in `on_boot`, jobs
//! start once the boot is complete and stop at shutdown; a plugin whose
//! `on_boot` fails takes its jobs with it; bad settings stop the boot.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{TestDb, eventually};
use microcore::App;
use microcore::prelude::*;
use microcore::registry::PluginStatus;
use microcore_calls as _;
use microcore_config as _;
use microcore_scheduler::{JobRun, Scheduler};

static TICKS: AtomicUsize = AtomicUsize::new(0);
static HELLOS: AtomicUsize = AtomicUsize::new(0);
static DEAD_TICKS: AtomicUsize = AtomicUsize::new(0);

/// Declares an every-second job and a one-shot job.
#[plugin(domain = "tests")]
#[derive(Debug)]
pub struct Chores {
    scheduler: Scheduler,
}

impl Plugin for Chores {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        self.scheduler
            .cron("chores-tick", "* * * * * *", &self, Self::tick)?;
        self.scheduler
            .after(
                "chores-hello",
                Duration::from_millis(200),
                &self,
                Self::hello,
            )
            .await?;
        // Nothing runs during the boot: other plugins may still be declaring.
        tokio::time::sleep(Duration::from_millis(1200)).await;
        assert_eq!(
            TICKS.load(Ordering::SeqCst) + HELLOS.load(Ordering::SeqCst),
            0
        );
        Ok(())
    }
}

impl Chores {
    async fn tick(self: Arc<Self>, _run: JobRun) -> Result<()> {
        TICKS.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    async fn hello(self: Arc<Self>, _run: JobRun) -> Result<()> {
        HELLOS.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// Declares a job, then fails its boot.
#[plugin(domain = "tests")]
#[derive(Debug)]
pub struct Broken {
    scheduler: Scheduler,
}

impl Plugin for Broken {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        self.scheduler
            .cron("broken-tick", "* * * * * *", &self, Self::tick)?;
        Err(Error::internal("cannot start"))
    }
}

impl Broken {
    async fn tick(self: Arc<Self>, _run: JobRun) -> Result<()> {
        DEAD_TICKS.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// Declares a job with a typo in its expression.
#[plugin(domain = "tests")]
#[derive(Debug)]
pub struct Typo {
    scheduler: Scheduler,
}

impl Plugin for Typo {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        self.scheduler
            .cron("typo", "0 0 25 * * *", &self, Self::tick)
    }
}

impl Typo {
    async fn tick(self: Arc<Self>, _run: JobRun) -> Result<()> {
        Ok(())
    }
}

fn app(url: &str) -> App {
    App::linked()
        .retain_tools(|t| ["config", "calls", "db", "scheduler"].contains(&t.name))
        .with_var("DATABASE_URL", url)
        .with_var("SCHEDULER_POLL_SECS", "0.1")
}

async fn jobs_run_between_boot_and_shutdown(db: TestDb) {
    let running = app(&db.url).boot().await.unwrap();
    let status = |name: &str| running.registry().plugin(name).map(|p| (p.status, p.error));
    assert_eq!(status("tests.Chores"), Some((PluginStatus::Ready, None)));
    assert_eq!(
        status("tests.Broken"),
        Some((PluginStatus::Dead, Some("cannot start".into())))
    );
    let (typo, why) = status("tests.Typo").unwrap();
    assert_eq!(typo, PluginStatus::Dead);
    assert!(
        why.unwrap_or_default()
            .starts_with("job 'typo': cron expression '0 0 25 * * *' is invalid"),
    );

    let ran = eventually(Duration::from_secs(10), || async {
        TICKS.load(Ordering::SeqCst) >= 2 && HELLOS.load(Ordering::SeqCst) == 1
    })
    .await;
    let scheduler: Scheduler = running.handle().unwrap();
    let health = running.registry().health().await;
    running.shutdown().await;
    assert!(
        ran,
        "ticks {}, hellos {}",
        TICKS.load(Ordering::SeqCst),
        HELLOS.load(Ordering::SeqCst)
    );
    assert!(
        health
            .iter()
            .any(|t| t.name == "scheduler" && t.health == Health::Ok)
    );
    assert!(!scheduler.is_running());

    // Stopped at shutdown; the dead plugin's job never ran.
    let after = TICKS.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert_eq!(TICKS.load(Ordering::SeqCst), after);
    assert_eq!(HELLOS.load(Ordering::SeqCst), 1);
    assert_eq!(DEAD_TICKS.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite() {
    jobs_run_between_boot_and_shutdown(TestDb::sqlite().await).await;
}

#[tokio::test]
async fn bad_settings_stop_the_boot() {
    let e = app("sqlite::memory:")
        .retain_plugins(|_| false)
        .with_var("SCHEDULER_MAX_ATTEMPTS", "many")
        .boot()
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(text.contains("tool 'scheduler'"), "{text}");
    assert!(
        text.contains("SCHEDULER_MAX_ATTEMPTS='many' is invalid"),
        "{text}"
    );
}
