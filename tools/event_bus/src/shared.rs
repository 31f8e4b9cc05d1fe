//! The state every copy of one bus shares ([`Core`]), and the one way an
//! envelope leaves it ([`Core::send`]).
//!
//! The dispatch layer (the workers that deliver, the inbox that takes
//! replies) and the API layer (`EventBus`, publish, subscribe, request) both
//! hold a `Core`; it lives here, below both, so neither imports the other
//! for it. Below it are only the drivers and the topology.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex};

use microcore::{Error, Result};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use crate::driver::{Driver, RecordingDriver};
use crate::topology::Topology;
use crate::{BusOptions, Envelope, EventId};

/// The emitter of what the bus publishes itself (`event.delivery.failed`).
pub(crate) const BUS_EMITTER: &str = "event_bus";

/// State shared by every copy of one bus.
pub(crate) struct Core {
    pub(crate) driver: Arc<dyn Driver>,
    pub(crate) options: BusOptions,
    pub(crate) topology: Topology,
    pub(crate) subscriptions: Mutex<Vec<Live>>,
    pub(crate) next_id: AtomicU64,
    pub(crate) draining: AtomicBool,
    /// This bus's reply topic, once a request made it needed.
    pub(crate) inbox: tokio::sync::OnceCell<String>,
    /// Requests waiting for their reply, by request id.
    pub(crate) pending: Mutex<HashMap<String, oneshot::Sender<Arc<Envelope>>>>,
    /// The driver again, when it is the recording one
    /// ([`EventBus::recording`](crate::EventBus::recording)): it keeps what
    /// was published, which the test kit reads.
    pub(crate) recording: Option<Arc<RecordingDriver>>,
    /// Where each publish is reported as a call (set by the tool).
    pub(crate) calls: std::sync::OnceLock<microcore_calls::Calls>,
    /// The relay of the database's outbox, once one is attached
    /// ([`EventBus::relay_outbox`](crate::EventBus::relay_outbox), or the tool).
    pub(crate) outbox: std::sync::OnceLock<Arc<crate::outbox::Outbox>>,
}

/// One running subscription.
#[derive(Debug)]
pub(crate) struct Live {
    pub(crate) id: u64,
    pub(crate) owner: &'static str,
    pub(crate) topic: String,
    pub(crate) group: String,
    pub(crate) stop: watch::Sender<bool>,
    pub(crate) task: JoinHandle<()>,
}

impl Core {
    /// Hands a finished envelope to the driver and counts it in the topology.
    pub(crate) async fn send(&self, envelope: Envelope) -> Result<EventId> {
        self.send_with(envelope, false).await
    }

    /// [`Core::send`] for an envelope that may have been published before
    /// (the outbox relay's): the driver drops a repeat within its window.
    pub(crate) async fn send_once(&self, envelope: Envelope) -> Result<EventId> {
        self.send_with(envelope, true).await
    }

    async fn send_with(&self, envelope: Envelope, once: bool) -> Result<EventId> {
        if envelope.event.trim().is_empty() {
            return Err(Error::internal("cannot publish to an empty topic name"));
        }
        let envelope = Arc::new(envelope);
        if once {
            self.driver.publish_once(&envelope).await?;
        } else {
            self.driver.publish(&envelope).await?;
        }
        self.topology.fired(&envelope);
        Ok(envelope.id.clone())
    }
}
