//! The event_bus tool's lifecycle: pick the driver from `EVENT_BUS_URL` at
//! setup and attach the relay of the database's outbox, start the relay
//! once the plugins are booted (their subscriptions exist by then), forget
//! what dead plugins subscribed, drain handlers at shutdown.

use std::sync::Mutex;

use microcore::prelude::*;
use microcore_calls::Calls;
use microcore_config::Config;
use microcore_db::Db;

use crate::{BusSettings, EventBus};
use microcore::sync::lock;

/// The built-in event_bus tool (`memory://` by default, `sqlite://<path>`,
/// `redis://…`, `nats://…`). It needs the database for the transactional
/// outbox (`publish_in`), whose relay it runs.
#[tool]
#[derive(Debug)]
pub struct EventBusTool {
    config: Config,
    db: Db,
    /// Where each publish is reported.
    calls: Calls,
    #[state]
    bus: Mutex<Option<EventBus>>,
}

impl EventBusTool {
    fn bus(&self) -> Option<EventBus> {
        lock(&self.bus).clone()
    }
}

impl Tool for EventBusTool {
    type Handle = EventBus;
    const DRY_RUN: &'static [(&'static str, &'static str)] = &[("EVENT_BUS_URL", "memory://")];

    async fn setup(&self, _: &ToolContext) -> Result<EventBus> {
        let settings = BusSettings::from_config(&self.config)?;
        let bus = EventBus::open(&settings).await?;
        bus.record_into(self.calls.clone());
        match bus.backend() {
            "redis" | "nats" => tracing::info!(
                backend = bus.backend(),
                guarantee = ?bus.guarantee(),
                prefix = %settings.driver.prefix,
                "event bus ready"
            ),
            _ => tracing::info!(
                backend = bus.backend(),
                guarantee = ?bus.guarantee(),
                "event bus ready"
            ),
        }
        // Commits wake the relay from now on; it starts once the plugins
        // have subscribed, so what a previous run left reaches them.
        bus.attach_outbox(&self.db);
        *lock(&self.bus) = Some(bus.clone());
        Ok(bus)
    }

    async fn on_boot_complete(&self) -> Result<()> {
        if let Some(bus) = self.bus() {
            bus.relay_outbox(&self.db);
        }
        Ok(())
    }

    fn withdraw(&self, plugin: &str) {
        if let Some(bus) = self.bus() {
            bus.withdraw(plugin);
        }
    }

    async fn drain(&self) {
        if let Some(bus) = self.bus() {
            bus.drain().await;
        }
    }

    async fn shutdown(&self) -> Result<()> {
        let bus = lock(&self.bus).take();
        if let Some(bus) = bus {
            bus.shutdown().await;
        }
        Ok(())
    }

    async fn health(&self) -> Health {
        match self.bus() {
            Some(bus) => match bus.ping().await {
                Ok(()) => Health::Ok,
                Err(e) => Health::Failing(e.chain()),
            },
            None => Health::Failing("not set up".into()),
        }
    }
}
