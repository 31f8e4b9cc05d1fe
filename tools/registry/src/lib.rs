//! The `registry` tool: the app looking at itself.
//!
//! The kernel keeps the inventory (tools, plugins, their status) in its
//! [`microcore::registry::AppRegistry`]; this tool installs the [`CallMetrics`]
//! recorder into it, so every call a plugin makes through a tool handle
//! (`db`, `state`, `event_bus`, `auth`) and every HTTP request is counted
//! and timed, and hands plugins a [`Registry`] handle that answers the
//! system routes: status and health, recent calls, Prometheus metrics,
//! event topology and schemas, traces ([`traces`]), lint. At the end of
//! each boot it writes `AI_CONTEXT.md` ([`context`]); `cargo run -- context`
//! prints it.
//!
//! ```
//! use microcore::prelude::*;
//! use microcore_registry::Registry;
//!
//! /// Logs how many plugins are ready.
//! #[plugin(domain = "docs")]
//! pub struct Census { registry: Registry }
//!
//! impl Plugin for Census {
//!     async fn on_boot(self: Arc<Self>) -> Result<()> {
//!         let status = self.registry.status().await;
//!         println!("{} plugins", status.plugins.len());
//!         Ok(())
//!     }
//! }
//! ```
//!
//! See `docs/observability.md`.

pub mod agents;
mod cli;
pub mod context;
pub mod edges;
mod handle;
pub mod jobs;
mod metrics;
pub mod models;
pub mod operations;
pub mod prometheus;
pub mod routes;
pub mod sse;
mod stats;
pub mod tables;
mod tool;
pub mod traces;
mod views;
pub mod wiring;

pub use handle::Registry;
pub use metrics::{CallMetrics, CallRecord, CallWatch, RECENT_CAPACITY};
pub use tool::{DEFAULT_CONTEXT_PATH, RegistryTool};
pub use views::{
    EventView, EventsView, HealthView, LintView, PluginView, Published, ReadinessView, SchemaView,
    Schemas, StatusView, ToolStatus, ToolView,
};
