//! Everything a plugin file needs: the kernel's prelude, every tool
//! handle this app links, and the sea-orm traits and derives of typed
//! queries (`microcore_db::prelude`), so a plugin that reads and writes
//! its tables, answers with a status, publishes and schedules has one
//! `use` line.
//!
//! ```
//! use domains::prelude::*;
//! ```

pub use microcore::prelude::*;
pub use microcore_auth::{Auth, AuthUser, MaybeAuthUser};
pub use microcore_config::Config;
pub use microcore_db::prelude::*;
pub use microcore_event_bus::{Event, EventBus};
pub use microcore_http::{
    Created, Http, IntoParams, Json, Path, Query, Reply, StatusCode, ToSchema, Validate,
    ValidationError,
};
pub use microcore_log::Log;
pub use microcore_registry::Registry;
pub use microcore_scheduler::{JobRun, Scheduler};
pub use microcore_state::State;
pub use serde::{Deserialize, Serialize};
