//! The registry tool's lifecycle: install the call recorder and the
//! per-route metrics at setup, write `AI_CONTEXT.md` once every plugin
//! has booted.

use std::path::PathBuf;
use std::sync::OnceLock;

use microcore::prelude::*;
use microcore_calls::Calls;
use microcore_config::Config;
use microcore_event_bus::EventBus;
use microcore_http::Http;
use microcore_scheduler::Scheduler;

use crate::Registry;

/// Where `AI_CONTEXT.md` goes when `AI_CONTEXT_PATH` is unset.
pub const DEFAULT_CONTEXT_PATH: &str = "AI_CONTEXT.md";

/// The built-in registry tool.
///
/// Settings: `AI_CONTEXT_PATH` (default `AI_CONTEXT.md` in the working
/// directory; empty: write nothing); `REGISTRY_METRICS` (default `true`;
/// `false` records neither tool calls nor requests, for an app that wants
/// none of their cost or measures it).
#[tool]
#[derive(Debug)]
pub struct RegistryTool {
    config: Config,
    http: Http,
    /// Its topology: the events of `AI_CONTEXT.md` and the contracts of
    /// `/system/lint`. A field like any other, so the boot sets the bus up
    /// first and `graph` draws the edge.
    bus: EventBus,
    /// Its jobs, listed like routes and subscriptions.
    scheduler: Scheduler,
    /// Where the other tools report their calls: the metrics keep them.
    calls: Calls,
    #[state]
    ready: OnceLock<(Registry, Option<PathBuf>)>,
}

impl Tool for RegistryTool {
    type Handle = Registry;
    const DRY_RUN: &'static [(&'static str, &'static str)] = &[("AI_CONTEXT_PATH", "")];

    async fn setup(&self, ctx: &ToolContext) -> Result<Registry> {
        let path = match self.config.raw("AI_CONTEXT_PATH") {
            None => Some(PathBuf::from(DEFAULT_CONTEXT_PATH)),
            Some(path) if path.trim().is_empty() => None,
            Some(path) => Some(PathBuf::from(path)),
        };
        let mut registry = Registry::new(ctx.registry.clone(), self.http.clone());
        if self.config.get("REGISTRY_METRICS", true)? {
            self.http.measure(registry.metrics().clone());
            registry = registry.recording(&self.calls);
        }
        let registry = registry
            .with_bus(self.bus.clone())
            .with_scheduler(self.scheduler.clone());
        let _ = self.ready.set((registry.clone(), path));
        Ok(registry)
    }

    /// Drained before http (it boots after it), so live streams end first
    /// and the server's graceful shutdown is not held by them.
    async fn drain(&self) {
        if let Some((registry, _)) = self.ready.get() {
            registry.close_streams();
        }
    }

    async fn on_boot_complete(&self) -> Result<()> {
        let Some((registry, Some(path))) = self.ready.get() else {
            return Ok(());
        };
        // A context that cannot be written is worth a warning, not a dead app.
        match crate::context::write(path, &registry.context()) {
            Ok(true) => tracing::info!("wrote {}", path.display()),
            Ok(false) => tracing::debug!("{} is up to date", path.display()),
            Err(e) => tracing::warn!("cannot write {} (AI_CONTEXT_PATH): {e}", path.display()),
        }
        Ok(())
    }
}
