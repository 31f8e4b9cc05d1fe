//! What the broker drivers (Redis, NATS) store besides events: dead
//! letters, as one JSON document each.
//!
//! One format for both, readable by tools outside Rust (`redis-cli HGETALL`,
//! `nats stream view`), and independent of how `DeadLetter` grows in Rust.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use microcore::Error;
use serde::{Deserialize, Serialize};

use super::{DeadLetter, Delivery};
use crate::Envelope;

/// A dead letter as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StoredLetter {
    /// The topic, to find the group's stream again at replay.
    pub(crate) topic: String,
    pub(crate) group: String,
    pub(crate) envelope: Envelope,
    pub(crate) reason: String,
    pub(crate) attempts: u32,
    pub(crate) failed_at: DateTime<Utc>,
}

impl StoredLetter {
    pub(crate) fn new(topic: &str, group: &str, delivery: &Delivery, reason: &str) -> Self {
        Self {
            topic: topic.to_string(),
            group: group.to_string(),
            envelope: (*delivery.envelope).clone(),
            reason: reason.to_string(),
            attempts: delivery.attempt,
            failed_at: Utc::now(),
        }
    }

    /// A stored event that no longer parses as an envelope cannot reach a
    /// handler; it is kept as a dead letter (its text as the payload)
    /// rather than looped on.
    pub(crate) fn unreadable(topic: &str, group: &str, text: &str, why: &str) -> Self {
        let envelope = Envelope::new(topic, serde_json::Value::String(text.into()), "unknown");
        Self {
            topic: topic.to_string(),
            group: group.to_string(),
            envelope,
            reason: format!("the stored envelope is unreadable: {why}"),
            attempts: 1,
            failed_at: Utc::now(),
        }
    }

    /// Dead letter `id` from its stored `text`.
    pub(crate) fn parse(id: &str, text: &[u8]) -> microcore::Result<Self> {
        serde_json::from_slice(text)
            .map_err(|e| Error::internal(format!("dead letter '{id}' is unreadable: {e}")))
    }

    pub(crate) fn into_dead_letter(self, id: String) -> DeadLetter {
        DeadLetter {
            id,
            envelope: self.envelope,
            group: self.group,
            reason: self.reason,
            attempts: self.attempts,
            failed_at: self.failed_at,
        }
    }
}

/// Parses stored letters, skipping (with a warning) any that do not parse,
/// oldest first.
pub(crate) fn sorted_letters(rows: Vec<(String, Vec<u8>)>, backend: &str) -> Vec<DeadLetter> {
    let mut letters: Vec<DeadLetter> = rows
        .into_iter()
        .filter_map(
            |(id, text)| match serde_json::from_slice::<StoredLetter>(&text) {
                Ok(stored) => Some(stored.into_dead_letter(id)),
                Err(e) => {
                    tracing::warn!("{backend}: dead letter '{id}' is unreadable, skipped: {e}");
                    None
                }
            },
        )
        .collect();
    letters.sort_by(|a, b| a.failed_at.cmp(&b.failed_at).then_with(|| a.id.cmp(&b.id)));
    letters
}

/// A delivery parsed from a stored envelope's text.
pub(crate) fn delivery(text: &[u8], attempt: u32, receipt: String) -> Result<Delivery, String> {
    serde_json::from_slice::<Envelope>(text)
        .map(|envelope| Delivery {
            envelope: Arc::new(envelope),
            attempt: attempt.max(1),
            receipt,
        })
        .map_err(|e| e.to_string())
}
