//! The password-hashing stage: a bound on the CPU and memory that hashing
//! may take at once.
//!
//! One Argon2id hash costs tens of milliseconds of a core and 19 MiB, on
//! purpose. Unbounded, a burst of registrations or logins (no account
//! needed) starves every other request of CPU and grows the process by
//! hundreds of megabytes. So at most `AUTH_HASH_CONCURRENCY` hashes run at
//! once (default: one fewer than the cores, at least one, which leaves a
//! core to serve the rest), at most `AUTH_HASH_QUEUE` callers wait for a
//! slot, and none waits longer than `AUTH_HASH_WAIT_MS`. A caller turned
//! away gets 503 (`ErrorKind::Unavailable`; the http tool adds
//! `Retry-After`), which a client retries, rather than a slow answer for
//! everyone.
//!
//! A slot is held by the hashing thread itself, so a caller that goes away
//! mid-hash (client disconnect) does not free it before the CPU is free.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use microcore::Error;
use tokio::sync::Semaphore;

/// The bound on concurrent password hashes, and its waiting line.
///
/// ```
/// use std::time::Duration;
/// use microcore_auth::HashLimits;
///
/// let limits = HashLimits { concurrency: 2, queue: 8, wait: Duration::from_secs(1) };
/// assert_eq!(HashLimits::default().concurrency, HashLimits::default_concurrency());
/// # let _ = limits;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashLimits {
    /// Hashes running at once (`AUTH_HASH_CONCURRENCY`).
    pub concurrency: usize,
    /// Callers allowed to wait for a slot (`AUTH_HASH_QUEUE`).
    pub queue: usize,
    /// The longest a caller waits for a slot (`AUTH_HASH_WAIT_MS`).
    pub wait: Duration,
}

impl HashLimits {
    /// The waiting line when `AUTH_HASH_QUEUE` is not set: 64 callers per
    /// slot. A waiting caller costs only its request (the 19 MiB and the CPU
    /// are spent by running hashes), and the wait's deadline bounds its
    /// latency, so the line can be long enough to absorb a burst.
    pub fn default_queue(concurrency: usize) -> usize {
        concurrency.saturating_mul(64)
    }

    /// One fewer than the cores, at least one.
    pub fn default_concurrency() -> usize {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .saturating_sub(1)
            .max(1)
    }
}

impl Default for HashLimits {
    fn default() -> Self {
        let concurrency = Self::default_concurrency();
        Self {
            concurrency,
            queue: Self::default_queue(concurrency),
            wait: Duration::from_secs(2),
        }
    }
}

/// The running stage: a semaphore and a count of waiting callers.
#[derive(Debug)]
pub(crate) struct HashStage {
    limits: HashLimits,
    slots: Arc<Semaphore>,
    waiting: AtomicUsize,
}

/// Decrements the waiting count however the wait ends (cancelled included).
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl HashStage {
    pub(crate) fn new(limits: HashLimits) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(limits.concurrency)),
            waiting: AtomicUsize::new(0),
            limits,
        }
    }

    pub(crate) fn limits(&self) -> HashLimits {
        self.limits
    }

    /// Runs `work` on the blocking pool once a slot is free, or fails with
    /// 503 when the line is full or the wait too long.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Error> {
        let permit = match self.slots.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.limits.queue {
                    self.waiting.fetch_sub(1, Ordering::AcqRel);
                    return Err(busy("the waiting line is full"));
                }
                let _waiting = Waiting(&self.waiting);
                match tokio::time::timeout(self.limits.wait, self.slots.clone().acquire_owned())
                    .await
                {
                    Ok(Ok(permit)) => permit,
                    Ok(Err(_)) => return Err(busy("the stage is closed")),
                    Err(_) => return Err(busy("no slot freed in time")),
                }
            }
        };
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await
        .map_err(|e| Error::internal("password hashing stopped").with_source(e))
    }
}

fn busy(why: &'static str) -> Error {
    Error::unavailable(format!("password hashing is saturated: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn stage(concurrency: usize, queue: usize, wait_ms: u64) -> Arc<HashStage> {
        Arc::new(HashStage::new(HashLimits {
            concurrency,
            queue,
            wait: Duration::from_millis(wait_ms),
        }))
    }

    #[tokio::test]
    async fn never_more_than_the_concurrency_at_once_and_the_rest_are_turned_away() {
        let stage = stage(2, 3, 5_000);
        let (running, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let calls = (0..20).map(|_| {
            let (stage, running, peak) = (stage.clone(), running.clone(), peak.clone());
            tokio::spawn(async move {
                stage
                    .run(move || {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(50));
                        running.fetch_sub(1, Ordering::SeqCst);
                    })
                    .await
            })
        });
        let outcomes = futures_join(calls).await;
        let served = outcomes.iter().filter(|o| o.is_ok()).count();
        assert_eq!(peak.load(Ordering::SeqCst), 2);
        // 2 running at once + 3 waiting; every other caller is turned away.
        assert_eq!(served, 5, "{outcomes:?}");
        for e in outcomes.iter().filter_map(|o| o.as_ref().err()) {
            assert_eq!(e.kind(), microcore::ErrorKind::Unavailable);
        }
    }

    #[tokio::test]
    async fn a_wait_past_the_deadline_is_a_503() {
        let stage = stage(1, 10, 20);
        let slow = {
            let stage = stage.clone();
            tokio::spawn(async move {
                stage
                    .run(|| std::thread::sleep(Duration::from_millis(300)))
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        let e = stage.run(|| ()).await.unwrap_err();
        assert_eq!(e.kind(), microcore::ErrorKind::Unavailable);
        assert!(slow.await.unwrap().is_ok());
        assert!(stage.run(|| ()).await.is_ok(), "the slot is free again");
        assert_eq!(stage.waiting.load(Ordering::SeqCst), 0);
    }

    async fn futures_join<T>(tasks: impl Iterator<Item = tokio::task::JoinHandle<T>>) -> Vec<T> {
        let mut out = Vec::new();
        for task in tasks.collect::<Vec<_>>() {
            out.push(task.await.unwrap());
        }
        out
    }
}
