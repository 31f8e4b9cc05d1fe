//! The container: the handles of the tools that are set up, by tool name.

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::ToolHandle;

/// A handle could not be taken out of the container.
///
/// The graph check makes these unreachable in a normal boot; they remain for
/// hand-built containers in tests.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ContainerError {
    /// No tool of that name has been set up.
    #[error("tool '{tool}' is not available (asked for by {owner})")]
    Missing {
        /// The tool's name.
        tool: &'static str,
        /// Who asked.
        owner: &'static str,
    },
    /// A tool of that name exists, but its handle is another type.
    #[error("tool '{tool}' does not provide `{expected}` (asked for by {owner})")]
    WrongType {
        /// The tool's name.
        tool: &'static str,
        /// The handle type asked for.
        expected: &'static str,
        /// Who asked.
        owner: &'static str,
    },
}

/// Set-up tools' handles, keyed by tool name.
///
/// ```
/// use microcore::{Container, ToolHandle};
///
/// #[derive(Clone, Debug, PartialEq)]
/// struct Clock(u64);
/// impl ToolHandle for Clock { const NAME: &'static str = "clock"; }
///
/// let mut c = Container::default();
/// c.insert(Clock(7));
/// assert_eq!(c.get::<Clock>("tests.Example").unwrap(), Clock(7));
/// ```
#[derive(Default, Clone)]
pub struct Container {
    handles: BTreeMap<&'static str, Arc<dyn Any + Send + Sync>>,
}

impl std::fmt::Debug for Container {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.handles.keys()).finish()
    }
}

impl Container {
    /// Puts a tool's handle in, under the handle's tool name.
    pub fn insert<H: ToolHandle>(&mut self, handle: H) {
        self.handles.insert(H::NAME, Arc::new(handle));
    }

    /// Puts an already type-erased handle in (what the boot does).
    pub fn insert_erased(&mut self, tool: &'static str, handle: Arc<dyn Any + Send + Sync>) {
        self.handles.insert(tool, handle);
    }

    /// The handle of tool `H::NAME`, tagged for `owner`.
    ///
    /// # Errors
    /// [`ContainerError`] when the tool is absent or provides another type.
    pub fn get<H: ToolHandle>(&self, owner: &'static str) -> Result<H, ContainerError> {
        let any = self.handles.get(H::NAME).ok_or(ContainerError::Missing {
            tool: H::NAME,
            owner,
        })?;
        let handle = any.downcast_ref::<H>().ok_or(ContainerError::WrongType {
            tool: H::NAME,
            expected: std::any::type_name::<H>(),
            owner,
        })?;
        Ok(handle.for_owner(owner))
    }

    /// The names of the tools that are in, sorted.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.handles.keys().copied()
    }

    /// Whether a tool of that name is in.
    pub fn contains(&self, tool: &str) -> bool {
        self.handles.contains_key(tool)
    }
}

/// The container as one plugin or tool sees it while it is constructed:
/// every handle taken is tagged with that owner.
#[derive(Debug, Clone, Copy)]
pub struct Wiring<'a> {
    container: &'a Container,
    owner: &'static str,
}

impl<'a> Wiring<'a> {
    /// A view of `container` for `owner` (`users.ListUsers`, `tool:http`).
    pub fn new(container: &'a Container, owner: &'static str) -> Self {
        Self { container, owner }
    }

    /// The handle a field asks for; its type says which tool.
    ///
    /// # Errors
    /// [`ContainerError`] when that tool is not set up.
    pub fn take<H: ToolHandle>(&self) -> Result<H, ContainerError> {
        self.container.get(self.owner)
    }

    /// Who is being constructed.
    pub fn owner(&self) -> &'static str {
        self.owner
    }
}
