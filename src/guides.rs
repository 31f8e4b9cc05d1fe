//! The guides in `docs/`, compiled and run as this crate's doc tests, so a
//! guide's code never drifts from the API (README.md is the crate's own
//! doc, so its blocks are doc tests too). A block a doc test cannot
//! compile (a plugin file, `use crate::prelude::*`) names its path on its
//! first line instead, and `microcore-cli/tests/doc_snippets.rs` builds it
//! in a new app; that test also fails on a Rust block that neither covers.

#[doc = include_str!("../docs/architecture.md")]
mod architecture {}
#[doc = include_str!("../docs/auth.md")]
mod auth {}
#[doc = include_str!("../docs/benchmarks.md")]
mod benchmarks {}
#[doc = include_str!("../docs/cli.md")]
mod cli {}
#[doc = include_str!("../docs/configuration.md")]
mod configuration {}
#[doc = include_str!("../docs/database.md")]
mod database {}
#[doc = include_str!("../docs/deploy.md")]
mod deploy {}
#[doc = include_str!("../docs/event-bus.md")]
mod event_bus {}
#[doc = include_str!("../docs/guide.md")]
mod guide {}
#[doc = include_str!("../docs/http.md")]
mod http {}
#[doc = include_str!("../docs/observability.md")]
mod observability {}
#[doc = include_str!("../docs/reliability.md")]
mod reliability {}
#[doc = include_str!("../docs/scheduler.md")]
mod scheduler {}
#[doc = include_str!("../docs/state.md")]
mod state {}
