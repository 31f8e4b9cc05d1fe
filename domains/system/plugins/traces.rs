//! GET /system/traces/flat and /system/traces/tree (which event caused
//! which, from the bus's recent events), and the live trace stream.

use axum::response::Response;
use microcore_registry::sse;
use microcore_registry::traces::{self, TraceMessage, TraceNode, TraceTree};

use crate::prelude::*;
use crate::system::models::{Caller, Policy, raw_get};

/// Causal traces of the recent events.
#[plugin]
pub struct Traces {
    http: Http,
    config: Config,
    registry: Registry,
    bus: EventBus,
    #[state]
    policy: Policy,
}

impl Plugin for Traces {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        if !self.policy.load(&self.config)?.serves() {
            return Ok(());
        }
        let http = self.http.group("/system/traces");
        http.get("/flat", &self, Self::flat)
            .summary("Recent events as trace nodes, newest first")
            .responds(401, "SYSTEM_ROUTES=token and no valid token");
        http.get("/tree", &self, Self::tree)
            .summary("Recent events nested by cause; roots newest first")
            .responds(401, "SYSTEM_ROUTES=token and no valid token");
        raw_get(&http, "/stream", &self, Self::stream);
        Ok(())
    }
}

impl Traces {
    async fn flat(self: Arc<Self>, caller: Caller) -> Result<Vec<TraceNode>> {
        self.policy.allow(caller)?;
        Ok(traces::flat(&self.bus))
    }

    async fn tree(self: Arc<Self>, caller: Caller) -> Result<Vec<TraceTree>> {
        self.policy.allow(caller)?;
        Ok(traces::tree(&traces::flat(&self.bus)))
    }

    /// `{type: "snapshot", tree}` first, then `{type: "node", node}` per
    /// publish. The watch starts before the snapshot, so nothing falls
    /// between them.
    fn stream(&self, caller: Caller) -> Response {
        if let Err(e) = self.policy.allow(caller) {
            return microcore_http::error_response(&e);
        }
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
