//! One subscription's member of a durable JetStream consumer, and how its
//! work survives it.
//!
//! A pump task pulls messages only when there is room in a small local
//! queue (at most [`QUEUE`] waiting), so a busy replica never hoards a
//! backlog its group's other members could be handling. Everything pulled
//! is held: renewed with "in progress" every third of `claim_after`
//! (JetStream's `ack_wait`), so a slow handler is never redelivered
//! elsewhere, while a killed replica's messages are redelivered to the
//! group after `ack_wait`. A retry is a `NAK` with the backoff as delay
//! (JetStream redelivers it then); a dropped consumer stops its pump, which
//! takes in what had already reached this process, then `NAK`s everything
//! it held but never handled, so the group gets it at once. The attempt
//! number is JetStream's delivery count (a hand-over counts as one).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::Subscriber;
use async_nats::jetstream::AckKind;
use async_nats::jetstream::consumer::PullConsumer;
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use microcore::{Error, Result};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinHandle;

use super::{GROUP_HEADER, Shared, unavailable};
use crate::driver::stored::{self, StoredLetter};
use crate::driver::{Consumer, Delivery};
use microcore::sync::lock;

/// Messages pulled but not yet handed to the handler, at most.
const QUEUE: usize = 32;
/// How long one pull request waits for messages.
const PULL_WAIT: Duration = Duration::from_secs(2);
/// The wait before pulling again after an error.
const PAUSE: Duration = Duration::from_millis(500);
/// How long an acknowledgement may wait for the server's confirmation.
const ACK_TIMEOUT: Duration = Duration::from_secs(5);

/// Reply subjects of the messages a consumer holds.
type Held = Arc<Mutex<HashSet<String>>>;

/// A member of a durable pull consumer.
pub(super) struct NatsConsumer {
    shared: Arc<Shared>,
    topic: String,
    group: String,
    queue: tokio::sync::Mutex<mpsc::UnboundedReceiver<Result<Delivery>>>,
    room: Arc<Semaphore>,
    held: Held,
    /// Tells the pump to stop pulling.
    stop: watch::Sender<bool>,
    /// Taken when dropped, to be awaited before handing back.
    tasks: Option<(JoinHandle<()>, JoinHandle<()>)>,
}

impl std::fmt::Debug for NatsConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsConsumer")
            .field("topic", &self.topic)
            .field("group", &self.group)
            .finish_non_exhaustive()
    }
}

impl NatsConsumer {
    pub(super) fn start(
        shared: Arc<Shared>,
        topic: &str,
        group: &str,
        durable: PullConsumer,
    ) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let room = Arc::new(Semaphore::new(QUEUE));
        let held: Held = Arc::default();
        let stop = watch::channel(false).0;
        let pump = tokio::spawn(
            Pump {
                shared: shared.clone(),
                topic: topic.to_string(),
                group: group.to_string(),
                tx,
                room: room.clone(),
                held: held.clone(),
                stop: stop.subscribe(),
            }
            .run(durable),
        );
        let renewer = tokio::spawn(renew(shared.clone(), held.clone()));
        Self {
            shared,
            topic: topic.to_string(),
            group: group.to_string(),
            queue: tokio::sync::Mutex::new(rx),
            room,
            held,
            stop,
            tasks: Some((pump, renewer)),
        }
    }

    async fn settle(&self, delivery: &Delivery, kind: AckKind) -> Result<()> {
        let result = settle(&self.shared, &delivery.receipt, kind).await;
        // Settled or not, this member is done with it: an acknowledgement
        // that was lost means JetStream redelivers it after `ack_wait`.
        lock(&self.held).remove(&delivery.receipt);
        result
    }
}

/// Sends `kind` for the message whose reply subject is `reply`, waiting
/// for the server to confirm it.
async fn settle(shared: &Shared, reply: &str, kind: AckKind) -> Result<()> {
    let request = shared.client.request(reply.to_string(), kind.into());
    match tokio::time::timeout(ACK_TIMEOUT, request).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(unavailable(e)),
        Err(e) => Err(unavailable(e)),
    }
}

impl Consumer for NatsConsumer {
    fn next(&self) -> BoxFuture<'_, Result<Option<Delivery>>> {
        Box::pin(async move {
            let mut queue = self.queue.lock().await;
            let mut closed = self.shared.closed.subscribe();
            if *closed.borrow() {
                return Ok(None);
            }
            tokio::select! {
                _ = closed.wait_for(|c| *c) => Ok(None),
                item = queue.recv() => match item {
                    Some(Ok(delivery)) => {
                        self.room.add_permits(1);
                        Ok(Some(delivery))
                    }
                    Some(Err(e)) => Err(e),
                    None => Ok(None),
                },
            }
        })
    }

    fn ack<'a>(&'a self, delivery: &'a Delivery) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.settle(delivery, AckKind::Ack))
    }

    fn retry<'a>(&'a self, delivery: &'a Delivery, delay: Duration) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.settle(delivery, AckKind::Nak(Some(delay))))
    }

    fn dead<'a>(&'a self, delivery: &'a Delivery, reason: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let letter = StoredLetter::new(&self.topic, &self.group, delivery, reason);
            bury(&self.shared, &letter).await?;
            self.settle(delivery, AckKind::Ack).await
        })
    }
}

impl Drop for NatsConsumer {
    /// Gives back what this member held but did not finish.
    fn drop(&mut self) {
        let Some((pump, renewer)) = self.tasks.take() else {
            return;
        };
        self.stop.send_replace(true);
        renewer.abort();
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            pump.abort();
            return;
        };
        let (shared, held) = (self.shared.clone(), self.held.clone());
        let task = runtime.spawn(async move {
            // The pump takes in what already reached this process and drops
            // its pull request; the flush makes sure the server has seen
            // that before the NAKs, or JetStream could redeliver the events
            // to the dead request, where nobody reads, until `ack_wait`.
            let _ = pump.await;
            let _ = renewer.await;
            let _ = tokio::time::timeout(ACK_TIMEOUT, shared.client.flush()).await;
            let held: Vec<String> = lock(&held).drain().collect();
            for reply in held {
                if let Err(e) = settle(&shared, &reply, AckKind::Nak(None)).await {
                    tracing::debug!(
                        "cannot hand an unfinished event back (JetStream redelivers it after EVENT_BUS_CLAIM_AFTER): {}",
                        e.chain()
                    );
                }
            }
        });
        self.shared.releases.track(task);
    }
}

/// Stores a dead letter in the dead letters stream.
async fn bury(shared: &Shared, letter: &StoredLetter) -> Result<()> {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let body = serde_json::to_vec(letter)?;
    shared
        .store(&shared.names.dead_subject(&id), &id, &body, None)
        .await
}

/// Pulls messages into a member's queue as room frees up.
struct Pump {
    shared: Arc<Shared>,
    topic: String,
    group: String,
    tx: mpsc::UnboundedSender<Result<Delivery>>,
    room: Arc<Semaphore>,
    held: Held,
    stop: watch::Receiver<bool>,
}

impl Pump {
    async fn run(mut self, mut durable: PullConsumer) {
        let mut failing = false;
        loop {
            if self.shared.is_closed() || *self.stop.borrow() {
                return;
            }
            if failing {
                tokio::time::sleep(PAUSE).await;
                match self.shared.durable(&self.topic, &self.group).await {
                    Ok(again) => durable = again,
                    Err(e) => {
                        if self.tx.send(Err(e)).is_err() {
                            return;
                        }
                        continue;
                    }
                }
            }
            let room = self.room.clone();
            let first = tokio::select! {
                first = room.acquire_owned() => first,
                _ = stopped(&mut self.stop) => return,
            };
            let Ok(first) = first else {
                return;
            };
            first.forget();
            let mut want = 1;
            while want < QUEUE {
                match self.room.try_acquire() {
                    Ok(permit) => {
                        permit.forget();
                        want += 1;
                    }
                    Err(_) => break,
                }
            }
            let (used, outcome) = self.pull(&durable, want).await;
            self.room.add_permits(want - used);
            failing = match outcome {
                Ok(()) => false,
                Err(e) => {
                    if self.tx.send(Err(e)).is_err() {
                        return;
                    }
                    true
                }
            };
        }
    }

    /// One pull request for up to `want` messages; returns how many went
    /// to the queue.
    async fn pull(&self, durable: &PullConsumer, want: usize) -> (usize, Result<()>) {
        let mut batch = match durable
            .batch()
            .max_messages(want)
            .expires(PULL_WAIT)
            .messages()
            .await
        {
            Ok(batch) => batch,
            Err(e) => return (0, Err(unavailable(e))),
        };
        let mut used = 0;
        let mut stop = self.stop.clone();
        loop {
            let message = tokio::select! {
                message = batch.next() => message,
                _ = stopped(&mut stop) => {
                    // Whatever already reached this process becomes held,
                    // so it is handed back with the rest.
                    while let Some(Some(Ok(message))) = batch.next().now_or_never() {
                        let _ = self.accept(message).await;
                    }
                    return (used, Ok(()));
                }
            };
            let Some(message) = message else {
                break;
            };
            let message = match message {
                Ok(message) => message,
                Err(e) => return (used, Err(Error::unavailable(e))),
            };
            match self.accept(message).await {
                Ok(Some(delivery)) => {
                    used += 1;
                    if self.tx.send(Ok(delivery)).is_err() {
                        return (used, Ok(()));
                    }
                }
                Ok(None) => {}
                Err(e) => return (used, Err(e)),
            }
        }
        (used, Ok(()))
    }

    /// A message as a delivery; `None` for a replay meant for another
    /// group, or an unreadable message (buried).
    async fn accept(&self, message: async_nats::jetstream::Message) -> Result<Option<Delivery>> {
        let Some(reply) = message.reply.as_ref().map(|r| r.to_string()) else {
            return Ok(None);
        };
        let attempt = message
            .info()
            .map(|info| u32::try_from(info.delivered).unwrap_or(1))
            .unwrap_or(1);
        let only = message
            .headers
            .as_ref()
            .and_then(|h| h.get(GROUP_HEADER))
            .map(|v| v.as_str().to_string());
        if only.is_some_and(|only| only != self.group) {
            settle(&self.shared, &reply, AckKind::Ack).await?;
            return Ok(None);
        }
        match stored::delivery(&message.payload, attempt, reply.clone()) {
            Ok(delivery) => {
                lock(&self.held).insert(reply);
                Ok(Some(delivery))
            }
            Err(why) => {
                tracing::error!(
                    topic = %self.topic, group = %self.group,
                    "stored event {} is unreadable: {why}", message.subject
                );
                let text = String::from_utf8_lossy(&message.payload);
                let letter = StoredLetter::unreadable(&self.topic, &self.group, &text, &why);
                bury(&self.shared, &letter).await?;
                settle(&self.shared, &reply, AckKind::Ack).await?;
                Ok(None)
            }
        }
    }
}

/// Resolves once the consumer is told to stop.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns is not `Send`; drop it here.
    let _ = stop.wait_for(|stop| *stop).await;
}

/// Tells JetStream that what a member holds is still being worked on.
async fn renew(shared: Arc<Shared>, held: Held) {
    let every = (shared.claim_after / 3).max(Duration::from_millis(100));
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        let replies: Vec<String> = lock(&held).iter().cloned().collect();
        for reply in replies {
            if let Err(e) = shared.client.publish(reply, AckKind::Progress.into()).await {
                tracing::debug!("cannot renew a claim: {e}");
            }
        }
    }
}

/// A reply inbox: a core NATS subscription, at most once (the caller is
/// waiting now, or gone).
#[derive(Debug)]
pub(super) struct InboxConsumer {
    subscriber: tokio::sync::Mutex<Subscriber>,
    closed: watch::Receiver<bool>,
}

impl InboxConsumer {
    pub(super) fn new(subscriber: Subscriber, closed: watch::Receiver<bool>) -> Self {
        Self {
            subscriber: tokio::sync::Mutex::new(subscriber),
            closed,
        }
    }
}

impl Consumer for InboxConsumer {
    fn next(&self) -> BoxFuture<'_, Result<Option<Delivery>>> {
        Box::pin(async move {
            let mut subscriber = self.subscriber.lock().await;
            let mut closed = self.closed.clone();
            loop {
                if *closed.borrow() {
                    return Ok(None);
                }
                let message = tokio::select! {
                    _ = closed.wait_for(|c| *c) => return Ok(None),
                    message = subscriber.next() => message,
                };
                let Some(message) = message else {
                    return Ok(None);
                };
                match stored::delivery(&message.payload, 1, String::new()) {
                    Ok(delivery) => return Ok(Some(delivery)),
                    Err(why) => tracing::warn!("an unreadable reply was dropped: {why}"),
                }
            }
        })
    }

    fn ack<'a>(&'a self, _: &'a Delivery) -> BoxFuture<'a, Result<()>> {
        Box::pin(async { Ok(()) })
    }

    fn retry<'a>(&'a self, _: &'a Delivery, _: Duration) -> BoxFuture<'a, Result<()>> {
        Box::pin(async { Ok(()) })
    }

    fn dead<'a>(&'a self, _: &'a Delivery, _: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async { Ok(()) })
    }
}
