//! The `event_bus` tool: how plugins talk without knowing each other.
//!
//! Plugins never call each other and domains never import each other: they
//! publish events and subscribe to them, typed at both ends ([`EventBus`]).
//! The transport is a [`Driver`](driver::Driver) chosen by `EVENT_BUS_URL`,
//! so the same plugin runs on the in-process bus in development and on a
//! durable one in production:
//!
//! | `EVENT_BUS_URL` | driver | guarantee |
//! |---|---|---|
//! | `memory://` (default) | tokio channels | at-most-once: lost if the process dies |
//! | `sqlite://<path>` | one SQLite file | at-least-once: survives restarts; make effects idempotent |
//! | `redis://host:port[/db]` | Redis Streams | at-least-once, each event once per group across replicas |
//! | `nats://host:port` | NATS JetStream | at-least-once, each event once per group across replicas |
//!
//! What the handle adds on top of any driver: the envelope and its causal
//! ids (an event published while handling a request or an event gets its
//! id as `parent_id`, with no code in the plugin), decoding into the
//! subscriber's own type (a payload that does not fit is a dead letter,
//! never a panic), consumer groups (`<domain>.<Plugin>.<handler>` by
//! default), retries with exponential backoff, dead letters and replay,
//! the `event.delivery.failed` event, TTL, request/reply with a timeout,
//! the topology of topics for observability, and a recording mode for tests.
//! With OpenTelemetry on (the log tool), the trace context travels in the
//! envelope's headers and each delivery is handled in a span of that trace.
//!
//! ```
//! use std::time::Duration;
//! use microcore::prelude::*;
//! use microcore_event_bus::{Event, EventBus};
//!
//! #[derive(serde::Deserialize)]
//! struct Ping { n: u32 }
//!
//! struct Counter { seen: std::sync::atomic::AtomicU32 }
//! impl Counter {
//!     async fn on_ping(self: Arc<Self>, event: Event<Ping>) -> Result<()> {
//!         self.seen.fetch_add(event.payload.n, std::sync::atomic::Ordering::SeqCst);
//!         Ok(())
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<()> {
//! let bus = EventBus::memory();
//! let counter = Arc::new(Counter { seen: 0.into() });
//! bus.subscribe("ping", &counter, Counter::on_ping).await?;
//! bus.publish("ping", &serde_json::json!({"n": 2})).await?;
//! while counter.seen.load(std::sync::atomic::Ordering::SeqCst) < 2 {
//!     tokio::time::sleep(Duration::from_millis(5)).await;
//! }
//! # Ok(()) }
//! ```
//!
//! See `docs/event-bus.md` for the guide.
//!
//! The files form three layers, each importing only from the ones below,
//! so a driver can be read (or written) without the handle, and the
//! delivery loop without the API:
//!
//! 1. API: the handle and what it offers (`bus`, `publish`, `subscribe`,
//!    `request`, `recording`, `event`, `tool`, `contracts`);
//! 2. dispatch: the state every copy shares and the one way an envelope
//!    leaves it (`shared`), the delivery loop (`worker`), the `topology`,
//!    causal ids and trace context (`causal`, `trace`);
//! 3. drivers (`driver/*`), on the wire format (`envelope`, `reply`,
//!    `options`).

mod bus;
mod causal;
pub mod contracts;
pub mod driver;
mod envelope;
mod event;
mod options;
mod outbox;
mod publish;
mod recording;
mod reply;
mod request;
mod shared;
mod subscribe;
mod tool;
pub mod topology;
mod trace;
mod worker;

pub use bus::EventBus;
pub use driver::{DeadLetter, Guarantee};
pub use envelope::{Envelope, EventId};
pub use event::{Event, EventArg};
pub use options::{BusOptions, BusSettings, DriverOptions};
pub use publish::Publish;
pub use reply::{IN_REPLY_TO, REPLY_ERROR, REPLY_ERROR_STATUS};
pub use subscribe::{Subscribe, Subscriber, Subscription};
pub use tool::EventBusTool;
pub use topology::{PayloadSchema, Role, TopicInfo};
pub use worker::DELIVERY_FAILED;
