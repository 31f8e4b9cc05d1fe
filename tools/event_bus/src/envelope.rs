//! The envelope: what travels on the bus around a payload.
//!
//! One shape for every driver (CONTRACT.md §3), serialized as JSON by the
//! durable ones, so an event written by one driver version reads the same
//! in the next and tools outside Rust can read the stored rows.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The id of a published event: a UUID (v4) as a string.
///
/// ```
/// use microcore_event_bus::EventId;
/// let id = EventId::new();
/// assert_eq!(id.as_str().len(), 36);
/// assert_eq!(EventId::from("abc"), "abc");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EventId(String);

impl EventId {
    /// A fresh random id.
    pub fn new() -> Self {
        Self(uuid::Uuid::new_v4().to_string())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for EventId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for EventId {
    fn from(s: &str) -> Self {
        Self(s.to_string())
    }
}

impl From<String> for EventId {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl AsRef<str> for EventId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<&str> for EventId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<str> for EventId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

/// One event as the bus carries it (CONTRACT.md §3).
///
/// `timestamp` is serialized as RFC 3339 in UTC
/// (`2025-01-31T12:00:00.123456Z`); `ttl` as whole milliseconds.
///
/// ```
/// use microcore_event_bus::Envelope;
/// use serde_json::json;
///
/// let e = Envelope::new("user.created", json!({"id": 1}), "users.RegisterUser");
/// assert_eq!(e.correlation_id, e.id.as_str(), "a root event is its own correlation");
/// let text = serde_json::to_value(&e).unwrap();
/// assert_eq!(text["event"], "user.created");
/// assert!(text["timestamp"].as_str().unwrap().ends_with('Z'));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// This event's id.
    pub id: EventId,
    /// The topic, e.g. `user.created`.
    pub event: String,
    /// The payload as JSON.
    pub payload: serde_json::Value,
    /// Who published it: the plugin (`users.RegisterUser`), `event_bus`
    /// for the bus's own events, or `app` for a handle used outside a plugin.
    pub emitter: String,
    /// When it was published (UTC; RFC 3339 in JSON).
    pub timestamp: DateTime<Utc>,
    /// The request or event being handled when this one was published.
    #[serde(default)]
    pub parent_id: Option<String>,
    /// The root of the causal chain: the first request or event's id.
    pub correlation_id: String,
    /// Where a reply goes (request/reply only).
    #[serde(default)]
    pub reply_to: Option<String>,
    /// Events with the same key are kept in order; also a natural
    /// idempotency key for effects that must apply once.
    #[serde(default)]
    pub key: Option<String>,
    /// After `timestamp + ttl`, the event is not delivered any more.
    #[serde(default, with = "ttl_millis")]
    pub ttl: Option<Duration>,
    /// Free-form metadata.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

impl Envelope {
    /// A root envelope (no parent, its own correlation) stamped now.
    pub fn new(
        event: impl Into<String>,
        payload: serde_json::Value,
        emitter: impl Into<String>,
    ) -> Self {
        let id = EventId::new();
        Self {
            correlation_id: id.to_string(),
            id,
            event: event.into(),
            payload,
            emitter: emitter.into(),
            timestamp: Utc::now(),
            parent_id: None,
            reply_to: None,
            key: None,
            ttl: None,
            headers: BTreeMap::new(),
        }
    }

    /// Whether its TTL has run out at `now`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use microcore_event_bus::Envelope;
    /// let mut e = Envelope::new("t", serde_json::Value::Null, "app");
    /// assert!(!e.is_expired(chrono::Utc::now()));
    /// e.ttl = Some(Duration::from_millis(1));
    /// assert!(e.is_expired(e.timestamp + chrono::Duration::milliseconds(2)));
    /// ```
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        match self
            .ttl
            .and_then(|ttl| chrono::Duration::from_std(ttl).ok())
        {
            Some(ttl) => self.timestamp + ttl < now,
            None => false,
        }
    }
}

/// `Option<Duration>` as whole milliseconds, the unit every driver stores.
mod ttl_millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
        ttl: &Option<Duration>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match ttl {
            Some(d) => s.serialize_some(&u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(Duration::from_millis))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_json_with_ttl_in_millis() {
        let mut e = Envelope::new("t", serde_json::json!({"a": 1}), "app");
        e.ttl = Some(Duration::from_millis(1500));
        e.key = Some("k".into());
        let value = serde_json::to_value(&e).unwrap();
        assert_eq!(value["ttl"], 1500);
        let back: Envelope = serde_json::from_value(value).unwrap();
        assert_eq!(back, e);
    }
}
