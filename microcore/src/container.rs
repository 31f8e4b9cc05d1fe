//! The container: the handles of the tools that are set up, by handle type.
//!
//! A tool's setup returns its running state, the handle; the boot puts it
//! in under its type, and a field of that type takes it out. The key is
//! the `TypeId` the compiler gives the field's type, so no name is looked
//! up here, and a handle cannot come out as another type. Names are kept
//! beside the handles only to say in messages what is linked.

use std::any::{Any, TypeId};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use crate::ToolHandle;

/// A handle could not be taken out of the container.
///
/// The graph check makes it unreachable in a normal boot; it remains for
/// hand-built containers in tests.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ContainerError {
    /// No tool providing that handle has been set up.
    #[error("tool '{tool}' is not available (asked for by {owner})")]
    Missing {
        /// The tool's name.
        tool: &'static str,
        /// Who asked.
        owner: &'static str,
    },
}

/// Set-up tools' handles, keyed by handle type.
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
/// assert!(c.names().eq(["clock"]));
/// ```
#[derive(Default, Clone)]
pub struct Container {
    handles: HashMap<TypeId, Arc<dyn Any + Send + Sync>>,
    names: BTreeSet<&'static str>,
}

impl std::fmt::Debug for Container {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(&self.names).finish()
    }
}

impl Container {
    /// Puts a tool's handle in.
    pub fn insert<H: ToolHandle>(&mut self, handle: H) {
        self.insert_erased(H::NAME, Arc::new(handle));
    }

    /// Puts an already type-erased handle in (what the boot does with what
    /// a tool's setup returned), under the type it holds.
    pub fn insert_erased(&mut self, tool: &'static str, handle: Arc<dyn Any + Send + Sync>) {
        self.handles.insert((*handle).type_id(), handle);
        self.names.insert(tool);
    }

    /// The handle of type `H`, tagged for `owner`.
    ///
    /// # Errors
    /// [`ContainerError::Missing`] when no set-up tool provides `H`.
    pub fn get<H: ToolHandle>(&self, owner: &'static str) -> Result<H, ContainerError> {
        let handle = self.handles.get(&TypeId::of::<H>());
        let handle = handle.and_then(|any| any.downcast_ref::<H>());
        let missing = ContainerError::Missing {
            tool: H::NAME,
            owner,
        };
        handle.map(|h| h.for_owner(owner)).ok_or(missing)
    }

    /// The names of the tools that are in, sorted, for messages.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.names.iter().copied()
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
