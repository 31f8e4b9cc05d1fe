//! Everything a plugin file needs: the kernel's prelude and every tool
//! handle this app links.
//!
//! ```
//! use domains::prelude::*;
//! ```

pub use microcore::prelude::*;
pub use microcore_auth::{Auth, AuthUser, MaybeAuthUser};
pub use microcore_config::Config;
pub use microcore_db::Db;
pub use microcore_event_bus::{Event, EventBus};
pub use microcore_http::{Created, Http, IntoParams, Json, Path, Query, Reply, ToSchema, Validate};
pub use microcore_log::Log;
pub use microcore_registry::Registry;
pub use microcore_scheduler::{JobRun, Scheduler};
pub use microcore_state::State;
pub use serde::{Deserialize, Serialize};
