//! The releases of the broker drivers (Redis, NATS): a dropped consumer
//! hands the deliveries it had claimed back to its group in a task of its
//! own (a drop cannot await), and closing the driver waits for those
//! tasks, so another replica gets the deliveries at once rather than after
//! the claim timeout.

use std::sync::Mutex;
use std::time::Duration;

use tokio::task::JoinHandle;

use microcore::sync::lock;

/// The release tasks still running.
#[derive(Debug, Default)]
pub(super) struct Releases(Mutex<Vec<JoinHandle<()>>>);

impl Releases {
    /// Keeps `task` to wait for at close, forgetting those already done.
    pub(super) fn track(&self, task: JoinHandle<()>) {
        let mut tasks = lock(&self.0);
        tasks.retain(|t| !t.is_finished());
        tasks.push(task);
    }

    /// Waits for every release still running, for at most `limit`.
    pub(super) async fn wait(&self, limit: Duration) {
        let tasks = std::mem::take(&mut *lock(&self.0));
        let _ = tokio::time::timeout(limit, futures::future::join_all(tasks)).await;
    }
}
