//! GET /system/events (topology and counts), /system/events/schemas, and
//! the live stream of every publish.

use axum::response::Response;
use microcore::prelude::*;
use microcore_config::Config;
use microcore_event_bus::EventBus;
use microcore_http::Http;
use microcore_registry::{Published, Registry, sse};

/// The bus as seen from inside: topics, payload schemas, live events.
#[plugin(domain = "system")]
#[derive(Debug)]
pub struct Events {
    http: Http,
    config: Config,
    registry: Registry,
    bus: EventBus,
}

impl Plugin for Events {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        let Some(system) = crate::guarded(&self.http, &self.config)? else {
            return Ok(());
        };
        let events = system.group("/system/events");
        events
            .get("", &self, Self::topology)
            .summary("Every topic: subscribers, last emitters, times fired");
        events
            .get("/schemas", &self, Self::schemas)
            .summary("Declared payload schemas, per topic");
        crate::raw::get(&events, "/stream", &self, Self::stream);
        Ok(())
    }
}

impl Events {
    async fn topology(self: Arc<Self>) -> Result<microcore_registry::EventsView> {
        Ok(self.registry.events(&self.bus))
    }

    async fn schemas(self: Arc<Self>) -> Result<microcore_registry::Schemas> {
        Ok(self.registry.schemas(&self.bus))
    }

    fn stream(&self) -> Response {
        self.registry.stream(vec![], self.bus.watch(), |envelope| {
            sse::json(&Published::from(&*envelope))
        })
    }
}
