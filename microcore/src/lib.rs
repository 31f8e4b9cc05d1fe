//! The microcore kernel: it knows no business rule and no tool.
//!
//! It collects the descriptors that `#[plugin]` and `#[tool]` leave in two
//! linker slices, checks the whole dependency graph ([`graph::check`]),
//! boots tools and plugins in order ([`boot`]), isolates failures, keeps a
//! [`registry`] of what runs, and shuts down in reverse ([`shutdown`]).
//!
//! ```
//! use microcore::prelude::*;
//!
//! /// Says hello at boot; needs no tool.
//! #[plugin(domain = "docs")]
//! pub struct Hello {}
//!
//! impl Plugin for Hello {
//!     async fn on_boot(self: Arc<Self>) -> Result<()> {
//!         println!("hello");
//!         Ok(())
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let app = microcore::App::new(vec![], vec![])
//!     .with_plugin(microcore::PLUGINS.iter().find(|p| p.name == "Hello").unwrap());
//! let running = app.boot().await.unwrap();
//! assert_eq!(running.registry().plugins()[0].name, "docs.Hello");
//! running.shutdown().await;
//! # }
//! ```

pub mod api;
pub mod app;
pub mod boot;
pub mod container;
pub mod descriptor;
pub mod diagnostic;
pub mod error;
pub mod graph;
pub mod handle;
pub mod lifecycle;
pub mod method;
pub mod panic;
pub mod prelude;
pub mod registry;
pub mod shutdown;
pub mod sync;

pub use app::App;
pub use boot::{BootError, Running};
pub use container::{Container, ContainerError, Wiring};
pub use error::{Error, ErrorKind, FieldError, Result};
pub use handle::ToolHandle;
pub use lifecycle::{Plugin, Tool, ToolContext};
pub use microcore_macros::{plugin, tool};
pub use registry::Health;

use descriptor::{PluginDescriptor, ToolDescriptor};

/// Every `#[plugin]` linked into the binary.
#[linkme::distributed_slice]
pub static PLUGINS: [PluginDescriptor];

/// Every `#[tool]` linked into the binary.
#[linkme::distributed_slice]
pub static TOOLS: [ToolDescriptor];

#[doc(hidden)]
pub mod __private {
    pub use linkme;
}
