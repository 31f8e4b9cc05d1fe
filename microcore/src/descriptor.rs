//! Descriptors: what `#[plugin]` and `#[tool]` leave in the linker slices.
//!
//! A descriptor is plain `'static` data plus one constructor function, so the
//! dependency graph can be checked before anything is built, and so
//! `cargo expand` on a plugin stays a handful of readable lines.

use std::sync::Arc;

use crate::container::{ContainerError, Wiring};
use crate::lifecycle::{DynPlugin, DynTool};

/// Where a plugin or tool was declared: `file!()` and `line!()` of the attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    /// Source file as the compiler saw it; see [`Location::display_file`].
    pub file: &'static str,
    /// 1-based line.
    pub line: u32,
}

impl Location {
    /// The file relative to the workspace, for messages.
    ///
    /// Plugins discovered by the domains crate's build script are compiled
    /// through `#[path = "<absolute>"]`, so `file!()` is absolute there; this
    /// cuts everything before `domains/`, `tools/` or `tests/`.
    ///
    /// ```
    /// use microcore::descriptor::Location;
    /// let at = Location { file: "/home/me/app/domains/users/plugins/me.rs", line: 9 };
    /// assert_eq!(at.display_file(), "domains/users/plugins/me.rs");
    /// ```
    pub fn display_file(&self) -> &'static str {
        crate::diagnostic::relative_file(self.file)
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.display_file(), self.line)
    }
}

/// One field of a plugin or tool struct: the tool it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dependency {
    /// The field's name, e.g. `db`.
    pub field: &'static str,
    /// The tool its type names, e.g. `"db"`.
    pub tool: &'static str,
    /// The field's line in the source file.
    pub line: u32,
}

/// Builds a plugin from the tools in the container.
pub type PluginConstructor = fn(&Wiring<'_>) -> Result<Arc<dyn DynPlugin>, ContainerError>;

/// Builds a tool (not yet set up) from the tools it depends on.
pub type ToolConstructor = fn(&Wiring<'_>) -> Result<Arc<dyn DynTool>, ContainerError>;

/// What `#[plugin]` emits for one plugin struct.
#[derive(Debug)]
pub struct PluginDescriptor {
    /// The struct's name, e.g. `ListUsers`.
    pub name: &'static str,
    /// `Some` when given as `#[plugin(domain = "...")]`; otherwise the
    /// domain is the folder above `plugins/` (see [`PluginDescriptor::domain`]).
    pub domain_override: Option<&'static str>,
    /// Whether the app is not ready while this plugin is `DEAD` (the
    /// default); `#[plugin(critical = false)]` for a plugin the app serves
    /// without (a dashboard, a report).
    pub critical: bool,
    /// Where the struct is declared.
    pub location: Location,
    /// One entry per field.
    pub deps: &'static [Dependency],
    /// Takes each field's handle out of the container.
    pub construct: PluginConstructor,
}

impl PluginDescriptor {
    /// The plugin's domain: the folder that holds its `plugins/` folder.
    ///
    /// ```
    /// # use microcore::descriptor::*;
    /// # use std::sync::Arc;
    /// let d = PluginDescriptor {
    ///     name: "ListUsers",
    ///     domain_override: None,
    ///     critical: true,
    ///     location: Location { file: "domains/users/plugins/list_users.rs", line: 5 },
    ///     deps: &[],
    ///     construct: |_| unreachable!(),
    /// };
    /// assert_eq!(d.domain(), "users");
    /// assert_eq!(d.qualified_name(), "users.ListUsers");
    /// ```
    pub fn domain(&self) -> &'static str {
        if let Some(domain) = self.domain_override {
            return domain;
        }
        let file = self.location.file;
        let normalized_end = file
            .rfind("/plugins/")
            .or_else(|| file.rfind("\\plugins\\"));
        match normalized_end {
            Some(end) => {
                let head = &file[..end];
                let start = head.rfind(['/', '\\']).map_or(0, |i| i + 1);
                &head[start..]
            }
            None => "app",
        }
    }

    /// `<domain>.<StructName>`, the name shown in the registry.
    pub fn qualified_name(&self) -> String {
        format!("{}.{}", self.domain(), self.name)
    }
}

/// What `#[tool]` emits for one tool implementation.
#[derive(Debug)]
pub struct ToolDescriptor {
    /// The tool's name: its handle's [`ToolHandle::NAME`](crate::ToolHandle::NAME).
    pub name: &'static str,
    /// The implementing struct's name, e.g. `SqlDb`.
    pub type_name: &'static str,
    /// Where the struct is declared.
    pub location: Location,
    /// The tools this tool needs, one per field.
    pub deps: &'static [Dependency],
    /// `#[tool(replaces)]`: this implementation deliberately takes the place
    /// of another tool with the same name.
    pub replaces: bool,
    /// A critical tool whose setup fails stops the boot.
    pub critical: bool,
    /// Settings that make a dry run of this tool harmless (see `Tool::DRY_RUN`).
    pub dry_run: &'static [(&'static str, &'static str)],
    /// Runs before anything else at boot (the log tool installs its
    /// subscriber here so the kernel's own messages are seen).
    pub pre_boot: fn(),
    /// Builds the tool from its dependencies.
    pub construct: ToolConstructor,
}
