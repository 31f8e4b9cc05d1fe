//! `nats://host:port`: the bus on NATS JetStream, shared by replicas.
//!
//! One stream per prefix (named after it) captures the subjects
//! `<prefix>.<topic>` ([`names`]), with interest retention: an event is
//! kept until every group that existed when it was published acknowledged
//! it, and an event no group wants is not kept at all. Each bus group is a
//! durable pull consumer filtered on its topic (created at the first
//! subscribe, delivering what is published from then on), acknowledged
//! explicitly; JetStream hands each event to one of the group's members,
//! whichever process they run in. Publishing waits for JetStream's
//! acknowledgement and carries the event id as `Nats-Msg-Id`, so a
//! publish retried within two minutes is stored once. Dead letters go to
//! a second stream, `<prefix>_dead_letters` (one subject per letter, kept
//! until replayed); reply inboxes are core NATS subjects (a reply is for a
//! caller waiting now, never stored).
//!
//! The client reconnects by itself: while NATS is unreachable, publishes
//! fail at once with [`Error::unavailable`] (never queued silently), the
//! connection's loss and return are logged, and consumers resume where
//! their durable consumer was.

mod consumer;
mod names;

use std::sync::Arc;
use std::time::Duration;

use async_nats::connection::State;
use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, PullConsumer, pull};
use async_nats::jetstream::context::{ConsumerInfoErrorKind, PublishErrorKind};
use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::stream::{
    self, DeleteMessageErrorKind, LastRawMessageErrorKind, RetentionPolicy, StorageType,
};
use async_nats::{Client, ConnectOptions, Event};
use futures::StreamExt;
use futures::future::BoxFuture;
use microcore::{Error, Result};
use tokio::sync::watch;

use super::releases::Releases;
use super::stored::{StoredLetter, sorted_letters};
use super::{Consumer, DeadLetter, Driver, Guarantee, group_gone, no_dead_letter, redact};
use crate::reply::is_inbox;
use crate::{DriverOptions, Envelope};
use consumer::{InboxConsumer, NatsConsumer};
use names::Names;

/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a JetStream request (a publish's acknowledgement, an admin
/// call) may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// The header naming the only group a replayed event is for.
const GROUP_HEADER: &str = "Microcore-Group";
/// How far back JetStream remembers message ids to drop duplicates.
const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

/// The NATS JetStream driver (`nats://host:port`).
///
/// ```no_run
/// use std::sync::Arc;
/// use microcore_event_bus::{DriverOptions, Envelope, driver::{Driver, NatsDriver}};
///
/// # #[tokio::main] async fn main() -> microcore::Result<()> {
/// let options = DriverOptions { prefix: "billing".into(), ..DriverOptions::default() };
/// let driver = NatsDriver::connect("nats://127.0.0.1:4222", &options).await?;
/// let consumer = driver.consume("invoice.paid", "billing.Ledger.on_paid").await?;
/// driver.publish(&Arc::new(Envelope::new("invoice.paid", serde_json::json!({"id": 1}), "app"))).await?;
/// let delivery = consumer.next().await?.unwrap();
/// consumer.ack(&delivery).await?;
/// driver.close().await;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct NatsDriver {
    shared: Arc<Shared>,
}

/// What the driver and its consumers share.
pub(super) struct Shared {
    client: Client,
    js: async_nats::jetstream::Context,
    names: Names,
    claim_after: Duration,
    closed: watch::Sender<bool>,
    /// Hand-overs of dropped consumers still running, awaited at close.
    releases: Releases,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsDriver")
            .field("stream", &self.names.stream())
            .finish_non_exhaustive()
    }
}

fn unavailable(e: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::unavailable(e)
}

fn closed_error() -> Error {
    Error::unavailable(std::io::Error::other("the NATS event bus is closed"))
}

/// Logs what happens to the connection: the clear lines an operator
/// looks for when the bus stops moving.
fn log_event(server: &str, event: Event) {
    match event {
        Event::Connected => tracing::info!("event bus: connected to NATS at {server}"),
        Event::Disconnected => tracing::warn!(
            "event bus: lost the connection to NATS at {server}; reconnecting (publishes fail until it is back, deliveries resume after)"
        ),
        Event::Closed => tracing::info!("event bus: NATS connection to {server} closed"),
        other => tracing::warn!("event bus: NATS at {server}: {other}"),
    }
}

impl Shared {
    fn is_closed(&self) -> bool {
        *self.closed.borrow()
    }

    /// The events stream and the dead letters stream, created if missing.
    async fn ensure_streams(&self) -> Result<(stream::Stream, stream::Stream)> {
        let prefix = self.names.stream();
        let events = self
            .js
            .get_or_create_stream(stream::Config {
                name: self.names.stream(),
                subjects: vec![self.names.stream_subjects()],
                retention: RetentionPolicy::Interest,
                storage: StorageType::File,
                duplicate_window: DUPLICATE_WINDOW,
                description: Some(format!(
                    "microcore event bus '{prefix}': one subject per topic, one durable consumer per group"
                )),
                ..Default::default()
            })
            .await
            .map_err(unavailable)?;
        let dead = self
            .js
            .get_or_create_stream(stream::Config {
                name: self.names.dead_stream(),
                subjects: vec![self.names.dead_subjects()],
                retention: RetentionPolicy::Limits,
                storage: StorageType::File,
                max_messages_per_subject: 1,
                description: Some(format!(
                    "microcore event bus '{prefix}': dead letters, one subject per letter, kept until replayed"
                )),
                ..Default::default()
            })
            .await
            .map_err(unavailable)?;
        Ok((events, dead))
    }

    /// The durable consumer of `group` on `topic`, created if missing;
    /// its redelivery timeout follows `EVENT_BUS_CLAIM_AFTER`.
    async fn durable(&self, topic: &str, group: &str) -> Result<PullConsumer> {
        let (events, _) = self.ensure_streams().await?;
        let name = self.names.consumer(topic, group);
        let config = pull::Config {
            durable_name: Some(name.clone()),
            description: Some(format!("group '{group}' of topic '{topic}'")),
            filter_subject: self.names.subject(topic),
            ack_policy: AckPolicy::Explicit,
            deliver_policy: DeliverPolicy::New,
            ack_wait: self.claim_after,
            max_deliver: -1,
            ..Default::default()
        };
        let mut consumer: PullConsumer = events
            .get_or_create_consumer(&name, config.clone())
            .await
            .map_err(unavailable)?;
        if consumer.cached_info().config.ack_wait != self.claim_after {
            match events.update_consumer(config).await {
                Ok(updated) => consumer = updated,
                Err(e) => tracing::warn!(
                    topic,
                    group,
                    "cannot change the redelivery timeout of consumer '{name}' to EVENT_BUS_CLAIM_AFTER: {e}"
                ),
            }
        }
        Ok(consumer)
    }

    /// Stores `body` on `subject`, waiting for JetStream's acknowledgement;
    /// recreates the stream once if it is gone.
    async fn store(
        &self,
        subject: &str,
        message_id: &str,
        body: &[u8],
        only_group: Option<&str>,
    ) -> Result<()> {
        let mut recreated = false;
        loop {
            let mut message = PublishMessage::build()
                .payload(body.to_vec().into())
                .message_id(message_id);
            if let Some(group) = only_group {
                message = message.header(GROUP_HEADER, group);
            }
            let acked = match self.js.send_publish(subject.to_string(), message).await {
                Ok(ack) => ack.await,
                Err(e) => Err(e),
            };
            match acked {
                Ok(_) => return Ok(()),
                Err(e) if e.kind() == PublishErrorKind::StreamNotFound && !recreated => {
                    tracing::warn!(
                        "event bus: stream '{}' is gone from NATS: creating it again",
                        self.names.stream()
                    );
                    self.ensure_streams().await?;
                    recreated = true;
                }
                Err(e) => return Err(unavailable(e)),
            }
        }
    }

    /// Fails fast while the connection is down rather than letting the
    /// client buffer a publish nobody may ever see acknowledged.
    fn connected(&self) -> Result<()> {
        if self.is_closed() {
            return Err(closed_error());
        }
        match self.client.connection_state() {
            State::Connected => Ok(()),
            _ => Err(unavailable(std::io::Error::new(
                std::io::ErrorKind::NotConnected,
                "not connected to NATS (reconnecting): the event was not published",
            ))),
        }
    }
}

impl NatsDriver {
    /// Connects to the NATS server `url` names and creates the prefix's
    /// streams if they are missing.
    ///
    /// # Errors
    /// A configuration error for a bad prefix or claim timeout;
    /// [`Error::unavailable`] when NATS (or JetStream) cannot be reached.
    pub async fn connect(url: &str, options: &DriverOptions) -> Result<Self> {
        options.check()?;
        let server = redact(url);
        let client = ConnectOptions::new()
            .name(format!("microcore event bus ({})", options.prefix))
            .connection_timeout(CONNECT_TIMEOUT)
            .event_callback(move |event| {
                let server = server.clone();
                async move { log_event(&server, event) }
            })
            .connect(url)
            .await
            .map_err(unavailable)?;
        let mut js = async_nats::jetstream::new(client.clone());
        js.set_timeout(REQUEST_TIMEOUT);
        let shared = Shared {
            client,
            js,
            names: Names::new(&options.prefix),
            claim_after: options.claim_after,
            closed: watch::channel(false).0,
            releases: Releases::default(),
        };
        shared.ensure_streams().await?;
        Ok(Self {
            shared: Arc::new(shared),
        })
    }
}

impl Driver for NatsDriver {
    fn backend(&self) -> &'static str {
        "nats"
    }

    fn guarantee(&self) -> Guarantee {
        Guarantee::AtLeastOnce
    }

    fn publish<'a>(&'a self, envelope: &'a Arc<Envelope>) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let shared = &self.shared;
            shared.connected()?;
            let body = serde_json::to_vec(&**envelope)?;
            let subject = shared.names.subject(&envelope.event);
            if is_inbox(&envelope.event) {
                return shared
                    .client
                    .publish(subject, body.into())
                    .await
                    .map_err(unavailable);
            }
            shared
                .store(&subject, envelope.id.as_str(), &body, None)
                .await
        })
    }

    fn consume<'a>(
        &'a self,
        topic: &'a str,
        group: &'a str,
    ) -> BoxFuture<'a, Result<Box<dyn Consumer>>> {
        Box::pin(async move {
            let shared = &self.shared;
            if shared.is_closed() {
                return Err(closed_error());
            }
            if is_inbox(topic) {
                let subscriber = shared
                    .client
                    .subscribe(shared.names.subject(topic))
                    .await
                    .map_err(unavailable)?;
                let consumer = InboxConsumer::new(subscriber, shared.closed.subscribe());
                return Ok(Box::new(consumer) as Box<dyn Consumer>);
            }
            let durable = shared.durable(topic, group).await?;
            let consumer = NatsConsumer::start(shared.clone(), topic, group, durable);
            Ok(Box::new(consumer) as Box<dyn Consumer>)
        })
    }

    fn dead_letters(&self) -> BoxFuture<'_, Result<Vec<DeadLetter>>> {
        Box::pin(async move {
            let (_, dead) = self.shared.ensure_streams().await?;
            let reader: PullConsumer = dead
                .create_consumer(pull::Config {
                    ack_policy: AckPolicy::None,
                    deliver_policy: DeliverPolicy::All,
                    inactive_threshold: Duration::from_secs(30),
                    ..Default::default()
                })
                .await
                .map_err(unavailable)?;
            let mut rows = Vec::new();
            let read = async {
                loop {
                    let mut batch = reader
                        .fetch()
                        .max_messages(256)
                        .messages()
                        .await
                        .map_err(unavailable)?;
                    let mut got = 0;
                    while let Some(message) = batch.next().await {
                        let message = message.map_err(Error::unavailable)?;
                        got += 1;
                        let id = message.subject.rsplit('.').next().unwrap_or_default();
                        rows.push((id.to_string(), message.payload.to_vec()));
                    }
                    if got == 0 {
                        return Ok::<(), Error>(());
                    }
                }
            };
            let outcome = read.await;
            let name = reader.cached_info().name.clone();
            let _ = dead.delete_consumer(&name).await;
            outcome?;
            Ok(sorted_letters(rows, "nats"))
        })
    }

    fn replay<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let shared = &self.shared;
            if !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(no_dead_letter(id));
            }
            let (events, dead) = shared.ensure_streams().await?;
            let stored = match dead
                .get_last_raw_message_by_subject(&shared.names.dead_subject(id))
                .await
            {
                Ok(message) => message,
                Err(e) if e.kind() == LastRawMessageErrorKind::NoMessageFound => {
                    return Err(no_dead_letter(id));
                }
                Err(e) => return Err(unavailable(e)),
            };
            let letter = StoredLetter::parse(id, &stored.payload)?;
            match events
                .consumer_info(shared.names.consumer(&letter.topic, &letter.group))
                .await
            {
                Ok(_) => {}
                Err(e) if e.kind() == ConsumerInfoErrorKind::NotFound => {
                    return Err(group_gone(&letter.group, &letter.topic, id));
                }
                Err(e) => return Err(unavailable(e)),
            }
            // Deleting first makes a replay happen once, however many race.
            match dead.delete_message(stored.sequence).await {
                Ok(true) => {}
                Ok(false) => return Err(no_dead_letter(id)),
                Err(e) if matches!(e.kind(), DeleteMessageErrorKind::JetStream(_)) => {
                    return Err(no_dead_letter(id));
                }
                Err(e) => return Err(unavailable(e)),
            }
            let body = serde_json::to_vec(&letter.envelope)?;
            let subject = shared.names.subject(&letter.topic);
            let message_id = format!("replay-{id}");
            if let Err(e) = shared
                .store(&subject, &message_id, &body, Some(&letter.group))
                .await
            {
                let kept_again = shared
                    .store(&shared.names.dead_subject(id), id, &stored.payload, None)
                    .await;
                if let Err(lost) = kept_again {
                    tracing::error!(
                        "dead letter '{id}' could neither be replayed nor kept: {}",
                        lost.chain()
                    );
                }
                return Err(e);
            }
            Ok(())
        })
    }

    fn ping(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            self.shared.connected()?;
            let flushed = self.shared.client.flush();
            match tokio::time::timeout(REQUEST_TIMEOUT, flushed).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(unavailable(e)),
                Err(e) => Err(unavailable(e)),
            }
        })
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        let shared = self.shared.clone();
        shared.closed.send_replace(true);
        Box::pin(async move {
            shared.releases.wait(Duration::from_secs(3)).await;
            let _ = tokio::time::timeout(Duration::from_secs(2), shared.client.flush()).await;
        })
    }
}
