//! `memory://`: the in-process driver, the default.
//!
//! One unbounded tokio channel per consumer group; the consumers of a group
//! take turns on its receiver, so each event reaches one of them. Nothing
//! outlives the process: at-most-once across crashes, which is what a
//! development machine or a single-process app wants, at the cost of a
//! channel send per group.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use microcore::sync::{lock, read, write};
use std::time::Duration;

use chrono::Utc;
use futures::future::BoxFuture;
use microcore::Result;
use tokio::sync::{mpsc, watch};

use super::{Consumer, DeadLetter, Delivery, Driver, Guarantee, group_gone, no_dead_letter};
use crate::Envelope;

/// The in-process driver (`memory://`).
///
/// ```
/// use std::sync::Arc;
/// use microcore_event_bus::{Envelope, driver::{Driver, MemoryDriver}};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> microcore::Result<()> {
/// let driver = MemoryDriver::new();
/// let consumer = driver.consume("t", "g").await?;
/// driver.publish(&Arc::new(Envelope::new("t", serde_json::json!(1), "app"))).await?;
/// let delivery = consumer.next().await?.unwrap();
/// assert_eq!(delivery.envelope.payload, 1);
/// consumer.ack(&delivery).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Default)]
pub struct MemoryDriver {
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    topics: RwLock<HashMap<String, Vec<Arc<Group>>>>,
    dead: Mutex<Vec<DeadLetter>>,
    closed: watch::Sender<bool>,
}

struct Queued {
    envelope: Arc<Envelope>,
    attempt: u32,
}

struct Group {
    topic: String,
    name: String,
    tx: mpsc::UnboundedSender<Queued>,
    rx: tokio::sync::Mutex<mpsc::UnboundedReceiver<Queued>>,
    consumers: AtomicUsize,
}

impl fmt::Debug for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Group")
            .field("topic", &self.topic)
            .field("name", &self.name)
            .field("consumers", &self.consumers)
            .finish()
    }
}

impl MemoryDriver {
    /// A fresh, empty bus transport.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Shared {
    fn group(&self, topic: &str, name: &str) -> Option<Arc<Group>> {
        read(&self.topics)
            .get(topic)?
            .iter()
            .find(|g| g.name == name)
            .cloned()
    }
}

impl Driver for MemoryDriver {
    fn backend(&self) -> &'static str {
        "memory"
    }

    fn guarantee(&self) -> Guarantee {
        Guarantee::AtMostOnce
    }

    fn publish<'a>(&'a self, envelope: &'a Arc<Envelope>) -> BoxFuture<'a, Result<()>> {
        if let Some(groups) = read(&self.shared.topics).get(&envelope.event) {
            for group in groups {
                let _ = group.tx.send(Queued {
                    envelope: envelope.clone(),
                    attempt: 1,
                });
            }
        }
        Box::pin(async { Ok(()) })
    }

    fn consume<'a>(
        &'a self,
        topic: &'a str,
        group: &'a str,
    ) -> BoxFuture<'a, Result<Box<dyn Consumer>>> {
        let mut topics = write(&self.shared.topics);
        let groups = topics.entry(topic.to_string()).or_default();
        let group = match groups.iter().find(|g| g.name == group) {
            Some(existing) => existing.clone(),
            None => {
                let (tx, rx) = mpsc::unbounded_channel();
                let created = Arc::new(Group {
                    topic: topic.to_string(),
                    name: group.to_string(),
                    tx,
                    rx: tokio::sync::Mutex::new(rx),
                    consumers: AtomicUsize::new(0),
                });
                groups.push(created.clone());
                created
            }
        };
        group.consumers.fetch_add(1, Ordering::SeqCst);
        let consumer: Box<dyn Consumer> = Box::new(MemoryConsumer {
            group,
            shared: self.shared.clone(),
        });
        Box::pin(async move { Ok(consumer) })
    }

    fn dead_letters(&self) -> BoxFuture<'_, Result<Vec<DeadLetter>>> {
        let letters = lock(&self.shared.dead).clone();
        Box::pin(async move { Ok(letters) })
    }

    fn replay<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let letter = {
                let mut dead = lock(&self.shared.dead);
                let at = dead
                    .iter()
                    .position(|d| d.id == id)
                    .ok_or_else(|| no_dead_letter(id))?;
                dead.remove(at)
            };
            let Some(group) = self.shared.group(&letter.envelope.event, &letter.group) else {
                let gone = group_gone(&letter.group, &letter.envelope.event, id);
                lock(&self.shared.dead).push(letter);
                return Err(gone);
            };
            let _ = group.tx.send(Queued {
                envelope: Arc::new(letter.envelope),
                attempt: 1,
            });
            Ok(())
        })
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        self.shared.closed.send_replace(true);
        Box::pin(async {})
    }
}

/// One member of a memory group.
#[derive(Debug)]
struct MemoryConsumer {
    group: Arc<Group>,
    shared: Arc<Shared>,
}

impl Consumer for MemoryConsumer {
    fn next(&self) -> BoxFuture<'_, Result<Option<Delivery>>> {
        Box::pin(async move {
            let mut closed = self.shared.closed.subscribe();
            let mut rx = tokio::select! {
                _ = closed.wait_for(|c| *c) => return Ok(None),
                rx = self.group.rx.lock() => rx,
            };
            tokio::select! {
                _ = closed.wait_for(|c| *c) => Ok(None),
                queued = rx.recv() => Ok(queued.map(|q| Delivery {
                    envelope: q.envelope,
                    attempt: q.attempt,
                    receipt: String::new(),
                })),
            }
        })
    }

    fn ack<'a>(&'a self, _: &'a Delivery) -> BoxFuture<'a, Result<()>> {
        Box::pin(async { Ok(()) })
    }

    fn retry<'a>(&'a self, delivery: &'a Delivery, delay: Duration) -> BoxFuture<'a, Result<()>> {
        let tx = self.group.tx.clone();
        let mut closed = self.shared.closed.subscribe();
        let again = Queued {
            envelope: delivery.envelope.clone(),
            attempt: delivery.attempt + 1,
        };
        tokio::spawn(async move {
            tokio::select! {
                _ = closed.wait_for(|c| *c) => {}
                _ = tokio::time::sleep(delay) => { let _ = tx.send(again); }
            }
        });
        Box::pin(async { Ok(()) })
    }

    fn dead<'a>(&'a self, delivery: &'a Delivery, reason: &'a str) -> BoxFuture<'a, Result<()>> {
        lock(&self.shared.dead).push(DeadLetter {
            id: uuid::Uuid::new_v4().to_string(),
            envelope: (*delivery.envelope).clone(),
            group: self.group.name.clone(),
            reason: reason.to_string(),
            attempts: delivery.attempt,
            failed_at: Utc::now(),
        });
        Box::pin(async { Ok(()) })
    }
}

impl Drop for MemoryConsumer {
    /// The last consumer of a group leaving removes the group, so events
    /// stop piling up in a queue nobody reads.
    fn drop(&mut self) {
        let mut topics = write(&self.shared.topics);
        if self.group.consumers.fetch_sub(1, Ordering::SeqCst) == 1
            && let Some(groups) = topics.get_mut(&self.group.topic)
        {
            groups.retain(|g| !Arc::ptr_eq(g, &self.group));
            if groups.is_empty() {
                topics.remove(&self.group.topic);
            }
        }
    }
}
