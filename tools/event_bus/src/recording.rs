//! The test kit: what a plugin published, and assertions on it.
//!
//! The Rust counterpart of `assert_called_with` on a mock bus in the Python
//! project: build the plugin with [`EventBus::recording`] (no app, no
//! handler of anyone else runs), call its method, assert on what it sent.

use std::sync::Arc;

use crate::{Envelope, EventBus};

#[microcore::tool]
impl EventBus {
    /// Every `(topic, payload)` published, oldest first: all of them on a
    /// [`recording`](EventBus::recording) bus, the last 1000 on any other.
    ///
    /// ```
    /// use serde_json::json;
    /// use microcore_event_bus::EventBus;
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> microcore::Result<()> {
    /// let bus = EventBus::recording();
    /// bus.publish("user.created", &json!({"id": 1})).await?;
    /// assert_eq!(bus.published(), vec![("user.created".to_string(), json!({"id": 1}))]);
    /// # Ok(()) }
    /// ```
    pub fn published(&self) -> Vec<(String, serde_json::Value)> {
        self.published_envelopes()
            .iter()
            .map(|e| (e.event.clone(), e.payload.clone()))
            .collect()
    }

    /// Like [`EventBus::published`], with the whole envelopes (key, headers,
    /// causal ids, emitter).
    pub fn published_envelopes(&self) -> Vec<Arc<Envelope>> {
        match &self.core.recording {
            Some(driver) => driver.published(),
            None => {
                let mut recent = self.recent();
                recent.reverse();
                recent
            }
        }
    }

    /// The payloads published to `topic`, oldest first.
    pub fn published_to(&self, topic: &str) -> Vec<serde_json::Value> {
        self.published_envelopes()
            .iter()
            .filter(|e| e.event == topic)
            .map(|e| e.payload.clone())
            .collect()
    }

    /// Asserts that `payload` was published to `topic` (at least once).
    ///
    /// ```
    /// use serde_json::json;
    /// use microcore_event_bus::EventBus;
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> microcore::Result<()> {
    /// let bus = EventBus::recording();
    /// bus.publish("user.created", &json!({"id": 1, "email": "a@b.c"})).await?;
    /// bus.assert_published("user.created", json!({"id": 1, "email": "a@b.c"}));
    /// # Ok(()) }
    /// ```
    ///
    /// # Panics
    /// When it was not, listing what was published to that topic.
    #[track_caller]
    pub fn assert_published(&self, topic: &str, payload: serde_json::Value) {
        let sent = self.published_to(topic);
        assert!(
            sent.contains(&payload),
            "expected a publish to '{topic}' with payload {payload}, but {}",
            describe(topic, &sent)
        );
    }

    /// Asserts that nothing was published to `topic`.
    ///
    /// # Panics
    /// When something was, listing it.
    #[track_caller]
    pub fn assert_not_published(&self, topic: &str) {
        let sent = self.published_to(topic);
        assert!(
            sent.is_empty(),
            "expected no publish to '{topic}', but {}",
            describe(topic, &sent)
        );
    }

    /// Forgets what was recorded so far (a recording bus only).
    pub fn clear_published(&self) {
        if let Some(driver) = &self.core.recording {
            driver.clear();
        }
    }
}

fn describe(topic: &str, sent: &[serde_json::Value]) -> String {
    if sent.is_empty() {
        return format!("nothing was published to '{topic}'");
    }
    let list: Vec<String> = sent.iter().map(|p| format!("  - {p}")).collect();
    format!(
        "'{topic}' received {} publish(es):\n{}",
        sent.len(),
        list.join("\n")
    )
}
