//! The `state` tool: key/value state with TTLs and atomic counters, for
//! sessions, caches, rate limits and login throttling.
//!
//! Plugins hold a [`State`] handle. `STATE_URL` picks the backend, and no
//! plugin changes when it does:
//!
//! | `STATE_URL` | backend |
//! |---|---|
//! | `memory://` (default, also when empty) | this process only; lost at exit |
//! | `redis://host:port[/db]` | Redis, shared by every replica; `redis://user:password@host` for ACLs |
//!
//! `STATE_PREFIX` (default `microcore:`) is put before every key, so apps
//! and test runs sharing one Redis do not collide; [`State::namespace`]
//! adds `name:` on top.
//!
//! A bad `STATE_URL` stops the boot with a message naming it. Redis down at
//! boot fails only this tool (it is not critical): the kernel marks it
//! `FAIL` and skips the plugins that need it. Redis lost while serving
//! makes each call an [`ErrorKind::Unavailable`](microcore::ErrorKind)
//! error (HTTP 503), until the connection comes back by itself.
//!
//! ```
//! use std::time::Duration;
//! use microcore::prelude::*;
//! use microcore_state::State;
//!
//! /// Refuses a sixth failed login per e-mail within 15 minutes of the first.
//! #[plugin(domain = "docs")]
//! pub struct Throttle {
//!     state: State,
//! }
//!
//! impl Plugin for Throttle {}
//!
//! impl Throttle {
//!     async fn failed_login(&self, email: &str) -> Result<()> {
//!         let failures = self.state.namespace("login-failures");
//!         let count = failures.incr(email, 1, Some(Duration::from_secs(900))).await?;
//!         if count > 5 {
//!             return Err(Error::business("Too many attempts, try again later").with_status(429));
//!         }
//!         Ok(())
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! // A unit test builds the plugin with a struct literal: no app, no Redis.
//! let throttle = Throttle { state: State::memory() };
//! for _ in 0..5 {
//!     throttle.failed_login("ada@example.com").await.unwrap();
//! }
//! let e = throttle.failed_login("ada@example.com").await.unwrap_err();
//! assert_eq!(e.kind(), microcore::ErrorKind::Business(429));
//! # }
//! ```
//!
//! The backends implement [`StateDriver`]; a project can bring its own with
//! [`State::from_driver`]. Guarantees and URLs are summed up in
//! `docs/state.md`.

mod driver;
mod handle;
mod memory;
#[cfg(feature = "redis")]
mod redis_driver;
mod settings;
mod tool;

pub use driver::StateDriver;
pub use handle::State;
pub use settings::{DEFAULT_MAX_KEYS, DEFAULT_PREFIX, DEFAULT_URL, StateSettings, StateUrl};
pub use tool::StateTool;
