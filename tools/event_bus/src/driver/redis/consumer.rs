//! One subscription's consumer in a Redis consumer group, and how its work
//! survives it.
//!
//! Redis lists every delivered, unacknowledged entry in the group's pending
//! list under the consumer that got it. This consumer:
//! - reads new entries with `XREADGROUP … >` (blocking, on its own
//!   connection), in batches it then hands out one by one;
//! - renews its claim on what it holds (buffered, being handled, waiting
//!   for a retry) every third of `claim_after`, resetting their idle time,
//!   so no one takes over the events of a slow but live consumer;
//! - takes over entries idle for longer than `claim_after` (`XAUTOCLAIM`):
//!   those of a replica that was killed, or lost its connection, or let go;
//! - waits out a retry's backoff itself, keeping the entry pending (a
//!   crash during the wait hands it to another consumer, attempt counted);
//! - when dropped, hands back what it held but never handled (idle time
//!   pushed past `claim_after`, delivery count restored), so the group's
//!   other consumers take it at their next look rather than after a timeout.
//!
//! The attempt number is Redis's delivery count of the entry.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use microcore::Result;
use redis::RedisResult;
use redis::streams::{StreamAutoClaimReply, StreamId, StreamPendingCountReply, StreamReadReply};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::{INBOX_TTL, Shared, manager_config, scripts, unavailable};
use crate::driver::stored::{self, StoredLetter};
use crate::driver::{Consumer, Delivery};
use microcore::sync::lock;

/// Entries read (or taken over) at once.
const BATCH: usize = 64;
/// The longest one blocking read waits before looking at retries and
/// abandoned entries again.
const READ_BLOCK: Duration = Duration::from_secs(2);
/// The longest a consumer goes without looking for abandoned entries (it
/// looks every quarter of `claim_after`, at most this long apart): how
/// long a hand-over waits at worst.
const RECLAIM_AT_MOST_EVERY: Duration = Duration::from_secs(2);
/// A consumer that holds nothing and was silent this long is forgotten
/// (every process start adds one to its groups).
const FORGET_IDLE: Duration = Duration::from_secs(3600);

/// Where a consumer reads.
#[derive(Debug, Clone)]
pub(super) struct Names {
    pub(super) topic: String,
    pub(super) group: String,
    /// The stream's key.
    pub(super) key: String,
    /// This consumer's name in the group.
    pub(super) name: String,
}

/// What a consumer holds.
#[derive(Debug, Default)]
struct Held {
    /// Every entry it owns and has not settled, with the delivery count to
    /// restore if it lets go (the attempts really made).
    ids: HashMap<String, u32>,
    /// Failed deliveries waiting for their retry: when, and the next attempt.
    delayed: Vec<(Instant, Delivery)>,
}

#[derive(Debug)]
struct ReadState {
    buffer: VecDeque<Delivery>,
    /// Where the next `XAUTOCLAIM` scan starts.
    cursor: String,
    next_reclaim: Instant,
}

/// A member of a Redis consumer group.
pub(super) struct RedisConsumer {
    shared: Arc<Shared>,
    names: Names,
    inbox: bool,
    reader: redis::aio::ConnectionManager,
    read: tokio::sync::Mutex<ReadState>,
    held: Arc<Mutex<Held>>,
    /// Taken when dropped, to be awaited before handing back.
    renewer: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for RedisConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisConsumer")
            .field("names", &self.names)
            .finish_non_exhaustive()
    }
}

impl RedisConsumer {
    pub(super) fn start(shared: Arc<Shared>, names: Names, inbox: bool) -> Result<Self> {
        let reader = redis::aio::ConnectionManager::new_lazy_with_config(
            shared.client.clone(),
            manager_config(READ_BLOCK + Duration::from_secs(3)),
        )
        .map_err(unavailable)?;
        let held = Arc::new(Mutex::new(Held::default()));
        let renewer = tokio::spawn(renew(shared.clone(), names.clone(), held.clone(), inbox));
        Ok(Self {
            read: tokio::sync::Mutex::new(ReadState {
                buffer: VecDeque::new(),
                cursor: "0-0".into(),
                next_reclaim: Instant::now(),
            }),
            shared,
            names,
            inbox,
            reader,
            held,
            renewer: Some(renewer),
        })
    }

    fn reclaim_every(&self) -> Duration {
        (self.shared.claim_after / 4).clamp(Duration::from_millis(100), RECLAIM_AT_MOST_EVERY)
    }

    /// The retry that falls due first, if any: when.
    fn next_due(&self) -> Option<Instant> {
        lock(&self.held).delayed.iter().map(|(at, _)| *at).min()
    }

    /// A retry whose backoff is over, still owned by this consumer (its
    /// delivery count set to this attempt).
    async fn due_retry(&self) -> Result<Option<Delivery>> {
        loop {
            let now = Instant::now();
            let due = {
                let held = lock(&self.held);
                held.delayed
                    .iter()
                    .filter(|(at, _)| *at <= now)
                    .min_by_key(|(at, _)| *at)
                    .map(|(_, d)| d.clone())
            };
            let Some(delivery) = due else {
                return Ok(None);
            };
            let kept = claim_own(
                &self.shared,
                &self.names,
                None,
                Some(delivery.attempt),
                std::slice::from_ref(&delivery.receipt),
            )
            .await?;
            let mut held = lock(&self.held);
            held.delayed.retain(|(_, d)| d.receipt != delivery.receipt);
            if kept.is_empty() {
                // Another consumer took it over meanwhile: it is theirs now.
                held.ids.remove(&delivery.receipt);
                continue;
            }
            held.ids.insert(delivery.receipt.clone(), delivery.attempt);
            return Ok(Some(delivery));
        }
    }

    /// Reads new entries into `buffer`, waiting up to `block`.
    async fn read_new(&self, buffer: &mut VecDeque<Delivery>, block: Duration) -> Result<()> {
        let block_ms = u64::try_from(block.as_millis()).unwrap_or(u64::MAX).max(1);
        let reply: RedisResult<Option<StreamReadReply>> = redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg(&self.names.group)
            .arg(&self.names.name)
            .arg("COUNT")
            .arg(BATCH)
            .arg("BLOCK")
            .arg(block_ms)
            .arg("STREAMS")
            .arg(&self.names.key)
            .arg(">")
            .query_async(&mut self.reader.clone())
            .await;
        match reply {
            Ok(Some(reply)) => {
                let entries = reply.keys.into_iter().flat_map(|k| k.ids).collect();
                self.accept(entries, &HashMap::new(), buffer).await
            }
            Ok(None) => Ok(()),
            Err(e) if e.code() == Some("NOGROUP") => self.recreate_group().await,
            Err(e) => Err(unavailable(e)),
        }
    }

    /// Takes over entries other consumers left idle past `claim_after`.
    async fn reclaim(&self, state: &mut ReadState) -> Result<()> {
        let min_idle = u64::try_from(self.shared.claim_after.as_millis()).unwrap_or(u64::MAX);
        let mut conn = self.shared.conn();
        let reply: RedisResult<StreamAutoClaimReply> = redis::cmd("XAUTOCLAIM")
            .arg(&self.names.key)
            .arg(&self.names.group)
            .arg(&self.names.name)
            .arg(min_idle)
            .arg(&state.cursor)
            .arg("COUNT")
            .arg(BATCH)
            .query_async(&mut conn)
            .await;
        let reply = match reply {
            Ok(reply) => reply,
            Err(e) if e.code() == Some("NOGROUP") => return self.recreate_group().await,
            Err(e) => return Err(unavailable(e)),
        };
        state.cursor = reply.next_stream_id;
        let (Some(first), Some(last)) = (reply.claimed.first(), reply.claimed.last()) else {
            return Ok(());
        };
        let held = lock(&self.held).ids.len();
        let pending: StreamPendingCountReply = redis::cmd("XPENDING")
            .arg(&self.names.key)
            .arg(&self.names.group)
            .arg(&first.id)
            .arg(&last.id)
            .arg((reply.claimed.len() + held).min(10_000))
            .arg(&self.names.name)
            .query_async(&mut conn)
            .await
            .map_err(unavailable)?;
        let counts: HashMap<String, u32> = pending
            .ids
            .into_iter()
            .map(|p| (p.id, u32::try_from(p.times_delivered).unwrap_or(u32::MAX)))
            .collect();
        tracing::info!(
            topic = %self.names.topic, group = %self.names.group,
            "took over {} event(s) left unacknowledged by a consumer that stopped or let go",
            reply.claimed.len()
        );
        self.accept(reply.claimed, &counts, &mut state.buffer).await
    }

    /// Turns stream entries into deliveries (attempt from `counts`, else
    /// 1), acknowledging at once those replayed for another group and
    /// burying those that no longer parse.
    async fn accept(
        &self,
        entries: Vec<StreamId>,
        counts: &HashMap<String, u32>,
        buffer: &mut VecDeque<Delivery>,
    ) -> Result<()> {
        let mut skipped = Vec::new();
        for entry in entries {
            if let Some(only) = entry.get::<String>("group")
                && only != self.names.group
            {
                skipped.push(entry.id);
                continue;
            }
            let attempt = counts.get(&entry.id).copied().unwrap_or(1);
            let text = entry.get::<Vec<u8>>("envelope").unwrap_or_default();
            match stored::delivery(&text, attempt, entry.id.clone()) {
                Ok(delivery) => {
                    lock(&self.held)
                        .ids
                        .insert(entry.id, delivery.attempt.saturating_sub(1));
                    buffer.push_back(delivery);
                }
                Err(why) => {
                    tracing::error!(
                        topic = %self.names.topic, group = %self.names.group,
                        "stream entry {} is unreadable: {why}", entry.id
                    );
                    let letter = StoredLetter::unreadable(
                        &self.names.topic,
                        &self.names.group,
                        &String::from_utf8_lossy(&text),
                        &why,
                    );
                    self.bury(&entry.id, &letter).await?;
                }
            }
        }
        if !skipped.is_empty() {
            let _: () = redis::cmd("XACK")
                .arg(&self.names.key)
                .arg(&self.names.group)
                .arg(skipped)
                .query_async(&mut self.shared.conn())
                .await
                .map_err(unavailable)?;
        }
        Ok(())
    }

    /// Stores a dead letter and acknowledges its entry, in one transaction.
    async fn bury(&self, id: &str, letter: &StoredLetter) -> Result<()> {
        let text = serde_json::to_string(letter)?;
        let result: RedisResult<()> = redis::pipe()
            .atomic()
            .cmd("HSET")
            .arg(self.shared.dead_key())
            .arg(uuid::Uuid::new_v4().to_string())
            .arg(text)
            .ignore()
            .cmd("XACK")
            .arg(&self.names.key)
            .arg(&self.names.group)
            .arg(id)
            .ignore()
            .query_async(&mut self.shared.conn())
            .await;
        lock(&self.held).ids.remove(id);
        result.map_err(unavailable)
    }

    /// The stream or group vanished (a flush, a restart without
    /// persistence): recreate it, so the group works again from now on.
    async fn recreate_group(&self) -> Result<()> {
        if self.shared.is_closed() {
            return Ok(());
        }
        tracing::warn!(
            topic = %self.names.topic, group = %self.names.group,
            "the consumer group is gone from Redis (flushed, or restarted without persistence): creating it again; events published while it was gone are lost"
        );
        self.shared
            .create_group(&self.names.key, &self.names.group)
            .await
    }
}

impl Consumer for RedisConsumer {
    fn next(&self) -> BoxFuture<'_, Result<Option<Delivery>>> {
        Box::pin(async move {
            let mut state = self.read.lock().await;
            let mut closed = self.shared.closed.subscribe();
            loop {
                if *closed.borrow() {
                    return Ok(None);
                }
                if let Some(delivery) = state.buffer.pop_front() {
                    lock(&self.held)
                        .ids
                        .insert(delivery.receipt.clone(), delivery.attempt);
                    return Ok(Some(delivery));
                }
                if let Some(delivery) = self.due_retry().await? {
                    return Ok(Some(delivery));
                }
                let now = Instant::now();
                if !self.inbox && now >= state.next_reclaim {
                    state.next_reclaim = now + self.reclaim_every();
                    self.reclaim(&mut state).await?;
                    if !state.buffer.is_empty() {
                        continue;
                    }
                }
                let mut wait = READ_BLOCK;
                if !self.inbox {
                    wait = wait.min(state.next_reclaim.saturating_duration_since(now));
                }
                if let Some(due) = self.next_due() {
                    wait = wait.min(due.saturating_duration_since(now));
                }
                let state = &mut *state;
                tokio::select! {
                    _ = closed.wait_for(|c| *c) => return Ok(None),
                    read = self.read_new(&mut state.buffer, wait) => read?,
                }
            }
        })
    }

    fn ack<'a>(&'a self, delivery: &'a Delivery) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let result: RedisResult<()> = redis::cmd("XACK")
                .arg(&self.names.key)
                .arg(&self.names.group)
                .arg(&delivery.receipt)
                .query_async(&mut self.shared.conn())
                .await;
            // Acknowledged or not, this consumer is done with it: if the
            // XACK was lost, the entry ages and another consumer (or this
            // one) takes it over.
            lock(&self.held).ids.remove(&delivery.receipt);
            result.map_err(unavailable)
        })
    }

    fn retry<'a>(&'a self, delivery: &'a Delivery, delay: Duration) -> BoxFuture<'a, Result<()>> {
        let mut held = lock(&self.held);
        held.ids.insert(delivery.receipt.clone(), delivery.attempt);
        let again = Delivery {
            attempt: delivery.attempt.saturating_add(1),
            ..delivery.clone()
        };
        held.delayed.push((Instant::now() + delay, again));
        Box::pin(async { Ok(()) })
    }

    fn dead<'a>(&'a self, delivery: &'a Delivery, reason: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let letter = StoredLetter::new(&self.names.topic, &self.names.group, delivery, reason);
            self.bury(&delivery.receipt, &letter).await
        })
    }
}

impl Drop for RedisConsumer {
    /// Hands back what this consumer held but did not finish.
    fn drop(&mut self) {
        let Some(renewer) = self.renewer.take() else {
            return;
        };
        renewer.abort();
        if self.inbox {
            return;
        }
        let held = std::mem::take(&mut *lock(&self.held));
        if held.ids.is_empty() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (shared, names) = (self.shared.clone(), self.names.clone());
        let task = runtime.spawn(async move {
            // A renewal still running would reset the idle time this
            // hand-over sets: let it end first.
            let _ = renewer.await;
            release(&shared, &names, held.ids).await
        });
        self.shared.releases.track(task);
    }
}

/// Marks `ids` (entry id → delivery count to restore) as long idle, still
/// owned by this consumer, so the next `XAUTOCLAIM` of any consumer of the
/// group takes them.
async fn release(shared: &Shared, names: &Names, ids: HashMap<String, u32>) {
    let idle = shared.claim_after + Duration::from_secs(24 * 3600);
    let mut by_count: HashMap<u32, Vec<String>> = HashMap::new();
    for (id, count) in ids {
        by_count.entry(count).or_default().push(id);
    }
    for (count, ids) in by_count {
        if let Err(e) = claim_own(shared, names, Some(idle), Some(count), &ids).await {
            tracing::warn!(
                topic = %names.topic, group = %names.group,
                "cannot hand {} unfinished event(s) back to the group (they move to another consumer after EVENT_BUS_CLAIM_AFTER): {}",
                ids.len(), e.chain()
            );
        }
    }
}

/// Runs [`scripts::CLAIM_OWN`] on `ids`, by chunks; returns the ids kept.
async fn claim_own(
    shared: &Shared,
    names: &Names,
    idle: Option<Duration>,
    count: Option<u32>,
    ids: &[String],
) -> Result<Vec<String>> {
    let mut kept = Vec::with_capacity(ids.len());
    let mut conn = shared.conn();
    for chunk in ids.chunks(256) {
        let mut call = scripts::CLAIM_OWN.key(&names.key);
        call.arg(&names.group)
            .arg(&names.name)
            .arg(idle.map(|d| d.as_millis().to_string()).unwrap_or_default())
            .arg(count.map(|c| c.to_string()).unwrap_or_default());
        for id in chunk {
            call.arg(id);
        }
        let chunk_kept: Vec<String> = call.invoke_async(&mut conn).await.map_err(unavailable)?;
        kept.extend(chunk_kept);
    }
    Ok(kept)
}

/// Keeps a consumer's claims alive while it lives: renews what it holds,
/// keeps its reply inbox from expiring, and tidies its group's stream.
async fn renew(shared: Arc<Shared>, names: Names, held: Arc<Mutex<Held>>, inbox: bool) {
    let every = (shared.claim_after / 3).max(Duration::from_millis(100));
    let forget_after = FORGET_IDLE.max(shared.claim_after * 10);
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        if shared.is_closed() {
            return;
        }
        let ids: Vec<String> = lock(&held).ids.keys().cloned().collect();
        if !ids.is_empty() {
            match claim_own(&shared, &names, None, None, &ids).await {
                Ok(kept) if kept.len() < ids.len() => {
                    let kept: std::collections::HashSet<String> = kept.into_iter().collect();
                    let mut held = lock(&held);
                    for lost in ids.iter().filter(|id| !kept.contains(*id)) {
                        held.ids.remove(lost);
                        held.delayed.retain(|(_, d)| &d.receipt != lost);
                    }
                    tracing::warn!(
                        topic = %names.topic, group = %names.group,
                        "{} event(s) were taken over by another consumer before this one renewed its claim (a pause longer than EVENT_BUS_CLAIM_AFTER?)",
                        ids.len() - kept.len()
                    );
                }
                Ok(_) => {}
                Err(e) => tracing::debug!(
                    topic = %names.topic, group = %names.group,
                    "cannot renew claims: {}", e.chain()
                ),
            }
        }
        let upkeep: RedisResult<()> = if inbox {
            redis::cmd("PEXPIRE")
                .arg(&names.key)
                .arg(INBOX_TTL.as_millis() as u64)
                .query_async(&mut shared.conn())
                .await
        } else {
            scripts::TIDY
                .key(&names.key)
                .arg(&names.group)
                .arg(forget_after.as_millis() as u64)
                .invoke_async(&mut shared.conn())
                .await
        };
        if let Err(e) = upkeep {
            tracing::debug!(topic = %names.topic, group = %names.group, "stream upkeep failed: {e}");
        }
    }
}
