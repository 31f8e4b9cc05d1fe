//! What a plugin or tool file needs, in one `use`.
//!
//! Tool handles are not here: they come from the tool crates (or from the
//! domains crate's own prelude), since the kernel depends on no tool.

pub use std::sync::Arc;

pub use crate::lifecycle::{Plugin, Tool, ToolContext};
pub use crate::registry::Health;
pub use crate::{Error, ErrorKind, FieldError, Result, ToolHandle, plugin, tool};
