//! What the bus knows about its own traffic, for observability.
//!
//! Per topic: who subscribes (group names), who published lately, how many
//! times it fired, and the payload schemas plugins declared. Plus a bounded
//! ring of recent envelopes and a broadcast of each publish, which the
//! system domain turns into `/system/events`, traces and SSE streams. Only
//! this process's view: with a shared driver, other replicas keep theirs.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use microcore::sync::lock;

use serde::Serialize;
use tokio::sync::broadcast;

use crate::Envelope;

/// How many recent envelopes [`EventBus::recent`](crate::EventBus::recent) keeps.
pub const RECENT_CAPACITY: usize = 1000;

/// How many distinct last emitters a topic remembers.
const LAST_EMITTERS: usize = 10;

/// How many published envelopes a slow watcher may lag behind.
const WATCH_CAPACITY: usize = 1024;

/// Whether a plugin publishes or consumes a payload schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// It publishes to the topic.
    Publisher,
    /// It subscribes to the topic.
    Subscriber,
}

/// A payload schema a plugin declared for a topic.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PayloadSchema {
    /// The plugin (`users.RegisterUser`).
    pub plugin: String,
    /// Publisher or subscriber.
    pub role: Role,
    /// The payload type's name.
    pub type_name: String,
    /// The JSON schema (OpenAPI flavour, from `utoipa::ToSchema`).
    pub json_schema: serde_json::Value,
}

/// One topic as the bus sees it (CONTRACT.md `/system/events`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopicInfo {
    /// The topic.
    pub event: String,
    /// Consumer groups subscribed in this process.
    pub subscribers: Vec<String>,
    /// Who published it lately, most recent first.
    pub last_emitters: Vec<String>,
    /// How many times it was published by this process.
    pub times_fired: u64,
    /// Declared payload schemas.
    pub schemas: Vec<PayloadSchema>,
    /// `(plugin, reply type)` of each subscription made with
    /// [`EventBus::respond`](crate::EventBus::respond): what a
    /// [`EventBus::request`](crate::EventBus::request) on the topic gets back.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub replies: Vec<(String, String)>,
}

#[derive(Debug, Default)]
struct TopicState {
    /// `(group, owner)` per live subscription.
    subscriptions: Vec<(String, String)>,
    last_emitters: VecDeque<String>,
    times_fired: u64,
    schemas: Vec<PayloadSchema>,
    replies: Vec<(String, String)>,
}

#[derive(Debug)]
pub(crate) struct Topology {
    topics: Mutex<BTreeMap<String, TopicState>>,
    recent: Mutex<VecDeque<Arc<Envelope>>>,
    watch: broadcast::Sender<Arc<Envelope>>,
}

impl Default for Topology {
    fn default() -> Self {
        Self {
            topics: Mutex::default(),
            recent: Mutex::default(),
            watch: broadcast::channel(WATCH_CAPACITY).0,
        }
    }
}

/// Topics the bus uses for its own plumbing (reply inboxes) are not shown.
pub(crate) fn is_internal(topic: &str) -> bool {
    crate::reply::is_inbox(topic)
}

impl Topology {
    pub(crate) fn fired(&self, envelope: &Arc<Envelope>) {
        if is_internal(&envelope.event) {
            return;
        }
        {
            let mut topics = lock(&self.topics);
            // `get_mut` first: the topic exists after its first publish,
            // and a hot path should not allocate its name again.
            let topic = match topics.get_mut(&envelope.event) {
                Some(topic) => topic,
                None => topics.entry(envelope.event.clone()).or_default(),
            };
            topic.times_fired += 1;
            if topic.last_emitters.front() != Some(&envelope.emitter) {
                topic.last_emitters.retain(|e| e != &envelope.emitter);
                topic.last_emitters.push_front(envelope.emitter.clone());
                topic.last_emitters.truncate(LAST_EMITTERS);
            }
        }
        {
            let mut recent = lock(&self.recent);
            if recent.len() == RECENT_CAPACITY {
                recent.pop_front();
            }
            recent.push_back(envelope.clone());
        }
        let _ = self.watch.send(envelope.clone());
    }

    pub(crate) fn subscribed(&self, topic: &str, group: &str, owner: &str) {
        if is_internal(topic) {
            return;
        }
        lock(&self.topics)
            .entry(topic.to_string())
            .or_default()
            .subscriptions
            .push((group.to_string(), owner.to_string()));
    }

    pub(crate) fn unsubscribed(&self, topic: &str, group: &str, owner: &str) {
        let mut topics = lock(&self.topics);
        if let Some(state) = topics.get_mut(topic)
            && let Some(at) = state
                .subscriptions
                .iter()
                .position(|(g, o)| g == group && o == owner)
        {
            state.subscriptions.remove(at);
        }
    }

    pub(crate) fn declare(&self, topic: &str, schema: PayloadSchema) {
        let mut topics = lock(&self.topics);
        let state = topics.entry(topic.to_string()).or_default();
        state
            .schemas
            .retain(|s| !(s.plugin == schema.plugin && s.role == schema.role));
        state.schemas.push(schema);
    }

    /// `owner` answers requests on `topic` with a `reply_type`.
    pub(crate) fn replies(&self, topic: &str, owner: &str, reply_type: &str) {
        let mut topics = lock(&self.topics);
        let state = topics.entry(topic.to_string()).or_default();
        let reply = (owner.to_string(), short_type_name(reply_type));
        if !state.replies.contains(&reply) {
            state.replies.push(reply);
            state.replies.sort();
        }
    }

    /// A plugin died at boot: forget its schemas and replies (its
    /// subscriptions are removed one by one as they stop).
    pub(crate) fn withdraw(&self, owner: &str) {
        for state in lock(&self.topics).values_mut() {
            state.schemas.retain(|s| s.plugin != owner);
            state.replies.retain(|(plugin, _)| plugin != owner);
        }
    }

    pub(crate) fn topics(&self) -> Vec<TopicInfo> {
        lock(&self.topics)
            .iter()
            .map(|(event, state)| {
                let mut subscribers: Vec<String> =
                    state.subscriptions.iter().map(|(g, _)| g.clone()).collect();
                subscribers.sort();
                subscribers.dedup();
                TopicInfo {
                    event: event.clone(),
                    subscribers,
                    last_emitters: state.last_emitters.iter().cloned().collect(),
                    times_fired: state.times_fired,
                    schemas: state.schemas.clone(),
                    replies: state.replies.clone(),
                }
            })
            .collect()
    }

    pub(crate) fn recent(&self) -> Vec<Arc<Envelope>> {
        lock(&self.recent).iter().rev().cloned().collect()
    }

    pub(crate) fn watch(&self) -> broadcast::Receiver<Arc<Envelope>> {
        self.watch.subscribe()
    }
}

/// A type's name without its module paths, generics kept:
/// `alloc::vec::Vec<my_app::Summary>` → `Vec<Summary>`.
fn short_type_name(full: &str) -> String {
    let mut out = String::with_capacity(full.len());
    let mut word = String::new();
    let mut chars = full.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
        } else if c == ':' && chars.peek() == Some(&':') {
            chars.next();
            word.clear();
        } else {
            out.push_str(&word);
            word.clear();
            out.push(c);
        }
    }
    out.push_str(&word);
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    /// Answers `math.add` with the sum in a list.
    struct Calculator;

    impl Calculator {
        async fn add(
            self: Arc<Self>,
            event: crate::Event<(i64, i64)>,
        ) -> microcore::Result<Vec<i64>> {
            Ok(vec![event.payload.0 + event.payload.1])
        }
    }

    #[tokio::test]
    async fn a_responder_declares_its_reply_type() {
        let bus = crate::EventBus::memory();
        bus.respond("math.add", &Arc::new(Calculator), Calculator::add)
            .await
            .unwrap();
        let topics = bus.topology();
        let topic = topics.iter().find(|t| t.event == "math.add").unwrap();
        assert_eq!(topic.replies.len(), 1);
        assert_eq!(topic.replies[0].1, "Vec<i64>");
    }

    #[test]
    fn module_paths_are_dropped_generics_kept() {
        assert_eq!(
            super::short_type_name("alloc::vec::Vec<my_app::users::Summary>"),
            "Vec<Summary>"
        );
        assert_eq!(super::short_type_name("(i64, &str)"), "(i64, &str)");
    }
}
