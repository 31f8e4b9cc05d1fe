//! GET /system/traces/flat and /system/traces/tree (which event caused
//! which, from the bus's recent events), and the live trace stream.

use axum::response::Response;
use microcore::prelude::*;
use microcore_config::Config;
use microcore_event_bus::EventBus;
use microcore_http::Http;
use microcore_registry::traces::{self, TraceMessage, TraceNode, TraceTree};
use microcore_registry::{Registry, sse};

/// Causal traces of the recent events.
#[plugin(domain = "system")]
#[derive(Debug)]
pub struct Traces {
    http: Http,
    config: Config,
    registry: Registry,
    bus: EventBus,
}

impl Plugin for Traces {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        let Some(system) = crate::guarded(&self.http, &self.config)? else {
            return Ok(());
        };
        let traces = system.group("/system/traces");
        traces
            .get("/flat", &self, Self::flat)
            .summary("Recent events as trace nodes, newest first");
        traces
            .get("/tree", &self, Self::tree)
            .summary("Recent events nested by cause; roots newest first");
        crate::raw::get(&traces, "/stream", &self, Self::stream);
        Ok(())
    }
}

impl Traces {
    async fn flat(self: Arc<Self>) -> Result<Vec<TraceNode>> {
        Ok(traces::flat(&self.bus))
    }

    async fn tree(self: Arc<Self>) -> Result<Vec<TraceTree>> {
        Ok(traces::tree(&traces::flat(&self.bus)))
    }

    /// `{type: "snapshot", tree}` first, then `{type: "node", node}` per
    /// publish. The watch starts before the snapshot, so nothing falls
    /// between them.
    fn stream(&self) -> Response {
        let watch = self.bus.watch();
        let tree = traces::tree(&traces::flat(&self.bus));
        let snapshot = sse::json(&TraceMessage::Snapshot { tree });
        let bus = self.bus.clone();
        let first = snapshot.into_iter().collect();
        self.registry.stream(first, watch, move |envelope| {
            let node = traces::node(&envelope, &traces::subscribers(&bus));
            sse::json(&TraceMessage::Node { node })
        })
    }
}
