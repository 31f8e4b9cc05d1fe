//! GET /system/events (topology and counts), /system/events/schemas, and
//! the live stream of every publish.

use axum::response::Response;
use microcore_registry::{Published, sse};

use crate::prelude::*;
use crate::system::models::{Caller, Policy, raw_get};

/// The bus as seen from inside: topics, payload schemas, live events.
#[plugin]
pub struct Events {
    http: Http,
    config: Config,
    registry: Registry,
    bus: EventBus,
    #[state]
    policy: Policy,
}

impl Plugin for Events {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        // AI_CONTEXT.md and /system/lint describe the bus even when the
        // routes are off.
        self.registry.observe_bus(&self.bus);
        if !self.policy.load(&self.config)?.serves() {
            return Ok(());
        }
        let http = self.http.group("/system/events");
        http.get("", &self, Self::topology)
            .summary("Every topic: subscribers, last emitters, times fired")
            .responds(401, "SYSTEM_ROUTES=token and no valid token");
        http.get("/schemas", &self, Self::schemas)
            .summary("Declared payload schemas, per topic")
            .responds(401, "SYSTEM_ROUTES=token and no valid token");
        raw_get(&http, "/stream", &self, Self::stream);
        Ok(())
    }
}

impl Events {
    async fn topology(self: Arc<Self>, caller: Caller) -> Result<microcore_registry::Events> {
        self.policy.allow(caller)?;
        Ok(self.registry.events(&self.bus))
    }

    async fn schemas(self: Arc<Self>, caller: Caller) -> Result<microcore_registry::Schemas> {
        self.policy.allow(caller)?;
        Ok(self.registry.schemas(&self.bus))
    }

    fn stream(&self, caller: Caller) -> Response {
        if let Err(e) = self.policy.allow(caller) {
            return microcore_http::error_response(&e);
        }
        self.registry.stream(vec![], self.bus.watch(), |envelope| {
            sse::json(&Published::from(&*envelope))
        })
    }
}
