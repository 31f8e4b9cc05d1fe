// A job handler whose argument is not `JobRun`.
use microcore::prelude::*;
use microcore_scheduler::Scheduler;

pub struct Purge {
    scheduler: Scheduler,
}

impl Purge {
    async fn purge(self: Arc<Self>, _older_than_days: u32) -> Result<()> {
        Ok(())
    }

    fn wire(self: &Arc<Self>) -> Result<()> {
        self.scheduler.cron("purge", "0 0 * * * *", self, Self::purge)
    }
}

fn main() {}
