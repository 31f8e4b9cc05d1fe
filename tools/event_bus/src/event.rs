//! What a handler receives: its own payload type, plus the envelope.
//!
//! The payload is decoded into the subscriber's type (domains never share
//! types), and the envelope stays shared behind an `Arc`, so handing an
//! event to a handler copies no metadata.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::{Envelope, EventId};

/// One delivered event: `payload` decoded into `T`, and the envelope's
/// metadata through accessors.
///
/// ```
/// use std::sync::Arc;
/// use microcore_event_bus::{Envelope, Event};
///
/// #[derive(serde::Deserialize)]
/// struct UserCreated { id: i64 }
///
/// let envelope = Arc::new(Envelope::new("user.created", serde_json::json!({"id": 7}), "users.Register"));
/// let event: Event<UserCreated> = Event::decode(envelope, 1).unwrap();
/// assert_eq!(event.payload.id, 7);
/// assert_eq!(event.topic(), "user.created");
/// assert_eq!(event.emitter(), "users.Register");
/// ```
#[derive(Debug, Clone)]
pub struct Event<T> {
    /// The payload, decoded into the subscriber's own type.
    pub payload: T,
    /// 1 for the first delivery, then 2, 3, ... on retries.
    pub attempt: u32,
    envelope: Arc<Envelope>,
}

impl<T: serde::de::DeserializeOwned> Event<T> {
    /// Decodes an envelope's payload into `T`.
    ///
    /// # Errors
    /// Why the payload does not fit `T` (a missing field, a wrong type),
    /// naming the topic and the type.
    pub fn decode(envelope: Arc<Envelope>, attempt: u32) -> Result<Self, String> {
        match T::deserialize(&envelope.payload) {
            Ok(payload) => Ok(Self {
                payload,
                attempt,
                envelope,
            }),
            Err(e) => Err(format!(
                "the payload of '{}' does not decode into `{}`: {e}",
                envelope.event,
                std::any::type_name::<T>()
            )),
        }
    }
}

impl<T> Event<T> {
    /// The event's id.
    pub fn id(&self) -> &EventId {
        &self.envelope.id
    }

    /// The topic it was published to.
    pub fn topic(&self) -> &str {
        &self.envelope.event
    }

    /// The plugin that published it.
    pub fn emitter(&self) -> &str {
        &self.envelope.emitter
    }

    /// When it was published.
    pub fn timestamp(&self) -> DateTime<Utc> {
        self.envelope.timestamp
    }

    /// The request or event that caused it.
    pub fn parent_id(&self) -> Option<&str> {
        self.envelope.parent_id.as_deref()
    }

    /// The root of its causal chain.
    pub fn correlation_id(&self) -> &str {
        &self.envelope.correlation_id
    }

    /// Its ordering key, if any (a natural idempotency key).
    pub fn key(&self) -> Option<&str> {
        self.envelope.key.as_deref()
    }

    /// Every header.
    pub fn headers(&self) -> &BTreeMap<String, String> {
        &self.envelope.headers
    }

    /// One header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.envelope.headers.get(name).map(String::as_str)
    }

    /// The whole envelope, payload as JSON included.
    pub fn envelope(&self) -> &Arc<Envelope> {
        &self.envelope
    }
}

/// What a subscriber's method takes: the whole [`Event<T>`], never the
/// bare payload (read it as `event.payload`).
///
/// ```
/// use std::sync::Arc;
/// use microcore_event_bus::{Envelope, Event, EventArg};
///
/// let envelope = Arc::new(Envelope::new("n", serde_json::json!(7), "app"));
/// let event = <Event<i64> as EventArg>::decode(envelope, 1).unwrap();
/// assert_eq!(event.payload, 7);
/// ```
#[diagnostic::on_unimplemented(
    message = "a subscriber takes `Event<{Self}>`, not `{Self}`",
    label = "the method's argument must be `Event<...>`",
    note = "write `async fn name(self: Arc<Self>, event: Event<{Self}>) -> Result<()>` and read the payload as `event.payload` (`Event` from `microcore_event_bus`)"
)]
pub trait EventArg: Sized {
    /// The payload type, decoded from JSON.
    type Payload;

    /// Decodes one delivery.
    ///
    /// # Errors
    /// Why the payload does not fit [`EventArg::Payload`].
    fn decode(envelope: Arc<Envelope>, attempt: u32) -> Result<Self, String>;
}

impl<T: serde::de::DeserializeOwned> EventArg for Event<T> {
    type Payload = T;

    fn decode(envelope: Arc<Envelope>, attempt: u32) -> Result<Self, String> {
        Event::decode(envelope, attempt)
    }
}
