//! The operational surface of every microcore app: liveness and readiness
//! probes, the status of every tool and plugin, Prometheus metrics, the
//! event topology, causal traces, lint findings, live streams (events,
//! traces, logs, tool calls) and a dashboard that draws them.
//!
//! Linking this crate is all it takes: its plugins (domain `system`) mount
//! the routes at boot. `SYSTEM_ROUTES=public|token|off` says who may read
//! them ([`Access`]); `/system/health` and `/system/ready` stay public
//! whatever the setting. Access is enforced once, by the guard layer of
//! the handle [`guarded`] returns: every route registered through it is
//! guarded, and no handler checks anything.
//!
//! ```
//! use microcore::prelude::*;
//! use microcore_config::Config;
//! use microcore_http::Http;
//!
//! /// GET /system/queue: one more admin route, guarded like the others.
//! #[plugin(domain = "docs")]
//! pub struct QueueDepth { http: Http, config: Config }
//!
//! impl Plugin for QueueDepth {
//!     async fn on_boot(self: Arc<Self>) -> Result<()> {
//!         if let Some(system) = microcore_system::guarded(&self.http, &self.config)? {
//!             system.get("/system/queue", &self, Self::depth);
//!         }
//!         Ok(())
//!     }
//! }
//!
//! impl QueueDepth {
//!     async fn depth(self: Arc<Self>) -> Result<u64> {
//!         Ok(0)
//!     }
//! }
//! ```
//!
//! See `docs/observability.md`.

mod access;
mod dashboard;
mod events;
mod lint;
mod logs;
mod metrics;
mod raw;
mod status;
mod traces;

pub use access::{Access, guarded};
pub use dashboard::Dashboard;
pub use events::Events;
pub use lint::Lint;
pub use logs::Logs;
pub use metrics::Metrics;
pub use status::{Alive, Status};
pub use traces::Traces;
