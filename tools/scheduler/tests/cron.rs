//! Cron jobs: an every-second job fires again and again, each fire on its
//! own whole second, each recorded once in the job table.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Timelike as _, Utc};
use common::{TestDb, assert_done_first_time, eventually};
use microcore::Result;
use microcore_scheduler::{JobKind, JobRun};

#[derive(Default)]
struct Ticker {
    fires: Mutex<Vec<JobRun>>,
}

impl Ticker {
    async fn tick(self: Arc<Self>, run: JobRun) -> Result<()> {
        self.fires.lock().unwrap().push(run);
        Ok(())
    }

    fn count(&self) -> usize {
        self.fires.lock().unwrap().len()
    }
}

async fn every_second_fires_repeatedly(db: TestDb) {
    let scheduler = db.scheduler().await;
    let ticker = Arc::new(Ticker::default());
    scheduler
        .cron("tick", "* * * * * *", &ticker, Ticker::tick)
        .unwrap();
    scheduler.start();
    let fired = eventually(Duration::from_secs(15), || async { ticker.count() >= 3 }).await;
    scheduler.stop().await;
    assert!(
        fired,
        "an every-second job fired {} time(s) in 15 s",
        ticker.count()
    );

    let fires = ticker.fires.lock().unwrap().clone();
    let times: Vec<DateTime<Utc>> = fires.iter().map(|f| f.scheduled).collect();
    assert!(
        times.windows(2).all(|w| w[0] < w[1]),
        "each fire is a new second: {times:?}"
    );
    assert!(
        times.iter().all(|t| t.nanosecond() == 0),
        "fires fall on whole seconds: {times:?}"
    );
    assert!(
        fires
            .iter()
            .all(|f| f.name == "tick" && f.attempt == 1 && f.kind == JobKind::Cron)
    );

    // Each fire is one row, done (stop waited for the runs in flight).
    let records = scheduler.records("tick").await.unwrap();
    let recorded: Vec<DateTime<Utc>> = records.iter().map(|r| r.scheduled).collect();
    assert_eq!(recorded, times);
    assert_done_first_time(&records, &[scheduler.instance()]);

    // Stopped means stopped: no fire runs any more.
    let after_stop = ticker.count();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(ticker.count(), after_stop);
}

async fn declaring_errors_are_clear(db: TestDb) {
    let scheduler = db.scheduler().await;
    let ticker = Arc::new(Ticker::default());
    let e = scheduler
        .cron("bad", "every second", &ticker, Ticker::tick)
        .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("job 'bad': cron expression 'every second' is invalid"),
        "{e}"
    );
    scheduler
        .cron("tick", "*/5 * * * * *", &ticker, Ticker::tick)
        .unwrap();
    let e = scheduler
        .cron("tick", "* * * * *", &ticker, Ticker::tick)
        .unwrap_err();
    assert!(
        e.to_string().contains("cron job 'tick' is declared twice"),
        "{e}"
    );
    let e = scheduler
        .cron("", "* * * * *", &ticker, Ticker::tick)
        .unwrap_err();
    assert!(e.to_string().contains("a job needs a name"), "{e}");
}

on_both_backends!(every_second_fires_repeatedly, declaring_errors_are_clear);
