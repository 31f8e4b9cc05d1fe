//! Publishing: the builder behind `bus.publish(topic, &payload)`.
//!
//! `.await` it as it is, or set a key, a TTL or headers first. The payload
//! is serialized when the builder is awaited, so the future borrows nothing
//! and the payload type needs only `Serialize`.

use std::collections::BTreeMap;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use microcore::{Error, Result};
use microcore_calls::Calls;
use serde::Serialize;
use tracing::Instrument as _;

use microcore_db::Txn;

use crate::shared::Core;
use crate::{Envelope, EventBus, EventId, causal, outbox, trace};

/// Writes `envelope` to `txn`'s outbox and queues the relay's wake-up
/// (or, with no relay, an inline pass) for after the commit.
async fn outbox_write(core: &Arc<Core>, txn: &Txn, envelope: Envelope) -> Result<EventId> {
    let topic = envelope.event.as_str();
    if topic.trim().is_empty() {
        return Err(Error::internal("cannot publish to an empty topic name"));
    }
    if crate::reply::is_inbox(topic) {
        return Err(Error::internal(format!(
            "cannot publish '{topic}' through the outbox: a reply inbox is for a caller waiting now; use `publish`"
        )));
    }
    outbox::write(txn, &envelope).await?;
    let (core, db) = (core.clone(), txn.db().clone());
    txn.after_commit(outbox::committed(core, db));
    Ok(envelope.id)
}

/// A publish being prepared; `.await` sends it and yields its [`EventId`].
///
/// ```
/// use std::time::Duration;
/// use microcore_event_bus::EventBus;
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> microcore::Result<()> {
/// let bus = EventBus::recording();
/// let id = bus
///     .publish("order.paid", &serde_json::json!({"order": 7}))
///     .key("order-7")
///     .ttl(Duration::from_secs(60))
///     .header("source", "checkout")
///     .await?;
/// let sent = &bus.published_envelopes()[0];
/// assert_eq!(sent.id, id);
/// assert_eq!(sent.key.as_deref(), Some("order-7"));
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "a publish does nothing until it is `.await`ed"]
pub struct Publish<'a, T: ?Sized> {
    bus: &'a EventBus,
    topic: &'a str,
    payload: &'a T,
    key: Option<String>,
    ttl: Option<Duration>,
    headers: BTreeMap<String, String>,
    /// `publish_in`'s transaction: the event goes to its outbox.
    txn: Option<&'a Txn>,
}

#[microcore::tool]
impl EventBus {
    /// Publishes `payload` to `topic`; `.await` the result. The envelope's
    /// `parent_id` and `correlation_id` come from the request or event
    /// being handled, if any.
    pub fn publish<'a, T: Serialize + ?Sized>(
        &'a self,
        topic: &'a str,
        payload: &'a T,
    ) -> Publish<'a, T> {
        Publish {
            bus: self,
            topic,
            payload,
            key: None,
            ttl: None,
            headers: BTreeMap::new(),
            txn: None,
        }
    }

    /// Publishes `payload` to `topic` once `txn` commits, via the outbox. The
    /// event is written to the outbox table in `txn`, and the outbox relay
    /// sends it to the broker once the transaction is committed (at once,
    /// in the normal case), deleting the row only when the driver holds it.
    /// A rolled-back transaction publishes nothing; a broker that is down
    /// delays the event, never loses it, and does not fail the caller.
    /// `.await` returns the event's id once the row is written (not yet
    /// published); `key`, `ttl` and `header` work as on [`publish`](EventBus::publish).
    ///
    /// Use it for every event that announces a change the same transaction
    /// makes: publishing with `publish` inside a transaction would let a
    /// consumer see an event whose rows a failed `COMMIT` then undid.
    ///
    /// ```
    /// use microcore::Error;
    /// use microcore_db::Db;
    /// use microcore_event_bus::EventBus;
    /// use sea_orm::ConnectionTrait;
    /// use serde_json::json;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> microcore::Result<()> {
    /// let db = Db::memory().await?; // every linked migration, the outbox's too
    /// db.execute_unprepared("CREATE TABLE orders (id INTEGER PRIMARY KEY)").await?;
    /// let bus = EventBus::recording();
    ///
    /// db.transaction(async |txn| {
    ///     txn.execute_unprepared("INSERT INTO orders (id) VALUES (7)").await?;
    ///     bus.publish_in(txn, "order.placed", &json!({"id": 7})).await?;
    ///     Ok(())
    /// })
    /// .await?;
    /// bus.assert_published("order.placed", json!({"id": 7}));
    ///
    /// // Rolled back: no row, no event.
    /// let _: Result<(), Error> = db
    ///     .transaction(async |txn| {
    ///         txn.execute_unprepared("INSERT INTO orders (id) VALUES (8)").await?;
    ///         bus.publish_in(txn, "order.placed", &json!({"id": 8})).await?;
    ///         Err(Error::business("out of stock"))
    ///     })
    ///     .await;
    /// assert_eq!(bus.published().len(), 1);
    /// # Ok(()) }
    /// ```
    ///
    /// In an app the tool's relay publishes the event moments after the
    /// commit; on a bus no relay runs for (a plugin test's struct literal,
    /// as above), the commit publishes it before `transaction` returns.
    pub fn publish_in<'a, T: Serialize + ?Sized>(
        &'a self,
        txn: &'a Txn,
        topic: &'a str,
        payload: &'a T,
    ) -> Publish<'a, T> {
        Publish {
            txn: Some(txn),
            ..self.publish(topic, payload)
        }
    }
}

#[microcore::tool]
impl EventBus {
    /// Reports every copy's publishes to `calls`. Each publish is reported
    /// (tool `event_bus`, method `publish`, the emitting plugin, duration,
    /// success). The tool does this at setup; only the first call counts.
    ///
    /// ```
    /// let bus = microcore_event_bus::EventBus::memory();
    /// bus.record_into(microcore_calls::Calls::default());
    /// ```
    pub fn record_into(&self, calls: Calls) -> &Self {
        let _ = self.core.calls.set(calls);
        self
    }
}

#[microcore::tool(part_of = crate::EventBus)]
impl<T: Serialize + ?Sized> Publish<'_, T> {
    /// Orders this event with the others of the same key, and names it
    /// for idempotency (handlers of an at-least-once bus may see it twice).
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Not delivered after `ttl` from now.
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = Some(ttl);
        self
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.insert(name.into(), value.into());
        self
    }
}

impl<'a, T: Serialize + ?Sized> IntoFuture for Publish<'a, T> {
    type Output = Result<EventId>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<EventId>> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        let span = trace::publish_span(self.topic, self.bus.owner);
        let entered = span.enter();
        let envelope = serde_json::to_value(self.payload)
            .map_err(|e| {
                Error::internal(format!(
                    "the payload of '{}' cannot be serialized: {e}",
                    self.topic
                ))
            })
            .map(|payload| {
                let mut envelope = Envelope::new(self.topic, payload, self.bus.owner);
                envelope.key = self.key;
                envelope.ttl = self.ttl;
                envelope.headers = self.headers;
                causal::stamp(&mut envelope);
                envelope
            });
        drop(entered);
        let (core, owner) = (&self.bus.core, self.bus.owner);
        if let Some(txn) = self.txn {
            let written = async move {
                let envelope = envelope?;
                let writing = outbox_write(core, txn, envelope);
                let written = match core.calls.get() {
                    Some(calls) => calls.timed("event_bus", "publish_in", owner, writing).await,
                    None => writing.await,
                };
                if written.is_err() {
                    trace::failed();
                }
                written
            };
            return Box::pin(written.instrument(span));
        }
        let sent = async move {
            let sending = async { core.send(envelope?).await };
            let sent = match core.calls.get() {
                Some(calls) => calls.timed("event_bus", "publish", owner, sending).await,
                None => sending.await,
            };
            if sent.is_err() {
                trace::failed();
            }
            sent
        };
        Box::pin(sent.instrument(span))
    }
}
