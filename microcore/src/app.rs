//! An app: the descriptors it is made of, and the settings of its boot.
//!
//! Apps are values, never globals: a test builds as many as it likes, each
//! with its own plugins and tool replacements. The boot itself is in
//! [`crate::boot`]; shutdown in [`crate::shutdown`].

use std::collections::BTreeMap;
use std::time::Duration;

use crate::descriptor::{PluginDescriptor, ToolDescriptor};
use crate::graph::{BootPlan, WiringErrors, check};
use crate::{PLUGINS, TOOLS};

/// What to boot, and how patiently.
///
/// ```
/// use microcore::App;
/// let app = App::linked().retain_plugins(|p| p.domain() == "ping");
/// assert!(app.plugins().iter().all(|p| p.domain() == "ping"));
/// ```
#[derive(Debug, Clone)]
pub struct App {
    pub(crate) tools: Vec<&'static ToolDescriptor>,
    pub(crate) plugins: Vec<&'static PluginDescriptor>,
    pub(crate) boot_timeout: Duration,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) vars: BTreeMap<String, String>,
    pub(crate) tools_only: bool,
    pub(crate) keep_going: bool,
    /// Set by [`App::dry_run`]: tools serve nothing (see
    /// [`ToolContext::dry_run`](crate::ToolContext::dry_run)).
    pub(crate) dry_run: bool,
}

impl App {
    /// Every tool and plugin linked into this binary.
    pub fn linked() -> Self {
        Self::new(TOOLS.iter().collect(), PLUGINS.iter().collect())
    }

    /// An app made of exactly these descriptors.
    pub fn new(
        tools: Vec<&'static ToolDescriptor>,
        plugins: Vec<&'static PluginDescriptor>,
    ) -> Self {
        Self {
            tools,
            plugins,
            boot_timeout: Duration::from_secs(10),
            shutdown_timeout: Duration::from_secs(10),
            vars: BTreeMap::new(),
            tools_only: false,
            keep_going: false,
            dry_run: false,
        }
    }

    /// Keeps only the plugins `keep` accepts.
    pub fn retain_plugins(mut self, keep: impl Fn(&PluginDescriptor) -> bool) -> Self {
        self.plugins.retain(|p| keep(p));
        self
    }

    /// Boots tools only, no plugin (commands like `migrate` that need the
    /// database but none of the features).
    pub fn tools_only(mut self) -> Self {
        self.plugins.clear();
        self.tools_only = true;
        self
    }

    /// Every tool on its [`Tool::DRY_RUN`](crate::Tool::DRY_RUN) settings
    /// (in-memory backends, no port bound): a boot that touches no real
    /// infrastructure, for `check` and `routes`.
    pub fn dry_run(mut self) -> Self {
        let settings: Vec<_> = self.tools.iter().flat_map(|t| t.dry_run.iter()).collect();
        for (name, value) in settings {
            self = self.with_var(*name, *value);
        }
        self.dry_run = true;
        self
    }

    /// Records a failed critical tool instead of stopping the boot, so
    /// `doctor` can report every tool at once.
    pub fn keep_going(mut self) -> Self {
        self.keep_going = true;
        self
    }

    /// Keeps only the tools `keep` accepts (a command that needs the
    /// database but must not serve HTTP boots the app this way).
    pub fn retain_tools(mut self, keep: impl Fn(&ToolDescriptor) -> bool) -> Self {
        self.tools.retain(|t| keep(t));
        self
    }

    /// Uses `tool` instead of any other tool of the same name (a test double,
    /// a different backend), as `#[tool(replaces)]` would.
    pub fn with_tool(mut self, tool: &'static ToolDescriptor) -> Self {
        self.tools.retain(|t| t.name != tool.name);
        self.tools.push(tool);
        self
    }

    /// Adds a plugin not linked into the binary (tests).
    pub fn with_plugin(mut self, plugin: &'static PluginDescriptor) -> Self {
        self.plugins.push(plugin);
        self
    }

    /// How long one plugin's constructor + `on_boot`, or one tool's setup,
    /// may take before it is marked failed (default 10 s).
    pub fn boot_timeout(mut self, timeout: Duration) -> Self {
        self.boot_timeout = timeout;
        self
    }

    /// How long each shutdown step of one tool or plugin may take (default 10 s).
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Sets a configuration variable for this app only, over the
    /// environment (read by the config tool).
    pub fn with_var(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.vars.insert(name.into(), value.into());
        self
    }

    /// The tools of this app.
    pub fn tools(&self) -> &[&'static ToolDescriptor] {
        &self.tools
    }

    /// The plugins of this app.
    pub fn plugins(&self) -> &[&'static PluginDescriptor] {
        &self.plugins
    }

    /// Checks the wiring without building anything.
    ///
    /// # Errors
    /// Every wiring mistake at once.
    pub fn check(&self) -> Result<BootPlan, WiringErrors> {
        check(&self.tools, &self.plugins)
    }
}
