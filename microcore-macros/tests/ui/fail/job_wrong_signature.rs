// A job handler that returns nothing instead of `Result<()>`.
use microcore::prelude::*;
use microcore_scheduler::{JobRun, Scheduler};

pub struct Purge {
    scheduler: Scheduler,
}

impl Purge {
    async fn purge(self: Arc<Self>, _run: JobRun) {}

    fn wire(self: &Arc<Self>) -> Result<()> {
        self.scheduler.cron("purge", "0 0 * * * *", self, Self::purge)
    }
}

fn main() {}
