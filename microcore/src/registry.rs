//! The registry: what this app is made of and how each part is doing.
//!
//! Filled by the boot, read by anyone (the `registry` tool hands it to
//! plugins; the CLI prints it). One registry per app, never a global, so
//! tests can boot many apps side by side. It keeps no numbers: the calls
//! tool handles make are reported to the `calls` tool (`microcore-calls`).

use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use futures::future::BoxFuture;
use serde::Serialize;

use crate::sync::{read, write};

/// A tool's health, as its [`Tool::health`](crate::Tool::health) reports
/// it: the one notion of health of the kernel. A tool that failed to set
/// up is `Failing` with its setup error; the `registry` tool derives the
/// app's readiness from it and from the plugins' status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Health {
    /// Working.
    Ok,
    /// Not working, and why.
    Failing(String),
}

/// A plugin's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum PluginStatus {
    /// Not booted yet.
    Pending,
    /// Booted and serving.
    Ready,
    /// Its constructor or `on_boot` failed, panicked or timed out.
    Dead,
    /// Not started because a tool it needs failed.
    Skipped,
}

/// One tool, as the registry knows it.
#[derive(Debug, Clone, Serialize)]
pub struct ToolRecord {
    /// Tool name (`http`).
    pub name: String,
    /// How its boot went: `Ok`, or `Failing` with the error of its setup
    /// (or of its `on_boot_complete`); in [`AppRegistry::health`]'s answer,
    /// what the tool says now.
    pub health: Health,
    /// The implementing type.
    pub type_name: String,
    /// `file:line` of the implementation.
    pub location: String,
    /// Tools it depends on.
    pub tools: Vec<String>,
    /// Whether its failure stops the app.
    pub critical: bool,
}

/// One plugin, as the registry knows it.
#[derive(Debug, Clone, Serialize)]
pub struct PluginRecord {
    /// `<domain>.<StructName>`.
    pub name: String,
    /// The domain folder.
    pub domain: String,
    /// `READY`, `DEAD`, `SKIPPED` (or `PENDING` during boot).
    pub status: PluginStatus,
    /// Why it is `DEAD` or `SKIPPED`.
    pub error: Option<String>,
    /// The tools it uses, by field order.
    pub tools: Vec<String>,
    /// `file:line` of the struct.
    pub location: String,
    /// Whether the app is not ready while this plugin is `DEAD`
    /// (`#[plugin(critical = false)]` says no).
    pub critical: bool,
    /// The tools it needs through what it registers rather than a field
    /// (a handler argument such as `AuthUser`), declared by the tool that
    /// registers it; the boot checks each one ([`AppRegistry::declare_need`]).
    pub needs: Vec<Need>,
}

/// A tool a plugin needs through something it registers, not a field: a
/// handler argument (`AuthUser` needs `auth`) or a helper. The tool the
/// registration goes through declares it, so the edge is in the registry
/// (and `AI_CONTEXT.md`), and the boot marks the plugin `DEAD` when the
/// tool is not set up, naming the call, the tool and the fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Need {
    /// The tool needed (`auth`).
    pub tool: String,
    /// What needs it (`argument AuthUser of GET /me`).
    pub via: String,
    /// `file:line` of the call that registered it.
    pub location: String,
}

#[derive(Debug, Default)]
struct Inner {
    tools: Vec<ToolRecord>,
    plugins: Vec<PluginRecord>,
}

/// Asks one set-up tool for its health (the boot makes one per tool).
pub type Probe = Arc<dyn Fn() -> BoxFuture<'static, Health> + Send + Sync>;

/// The set-up tools, as the boot hands them over: name, probe.
struct Probes(Vec<(&'static str, Probe)>);

impl std::fmt::Debug for Probes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.iter().map(|t| t.0)).finish()
    }
}

/// How long one tool's health check may take before it counts as failing.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(5);

/// The live inventory of one app.
///
/// ```
/// use microcore::registry::*;
/// let r = AppRegistry::default();
/// r.add_tool(ToolRecord {
///     name: "http".into(), health: Health::Ok,
///     type_name: "HttpTool".into(), location: "tools/http/src/tool.rs:10".into(), tools: vec![], critical: true,
/// });
/// assert_eq!(r.tools()[0].health, Health::Ok);
/// ```
#[derive(Debug, Default)]
pub struct AppRegistry {
    inner: RwLock<Inner>,
    probes: OnceLock<Probes>,
}

impl AppRegistry {
    /// A fresh, shareable registry.
    pub fn new() -> Arc<Self> {
        Arc::default()
    }

    /// Adds a tool's record. The boot adds each tool once: the wiring
    /// check has made names unique.
    pub fn add_tool(&self, record: ToolRecord) {
        write(&self.inner).tools.push(record);
    }

    /// Adds a plugin's record, once per plugin like [`AppRegistry::add_tool`].
    pub fn add_plugin(&self, record: PluginRecord) {
        write(&self.inner).plugins.push(record);
    }

    /// Changes a plugin's status (and error).
    pub fn set_plugin_status(&self, name: &str, status: PluginStatus, error: Option<String>) {
        let mut inner = write(&self.inner);
        if let Some(p) = inner.plugins.iter_mut().find(|p| p.name == name) {
            p.status = status;
            p.error = error;
        }
    }

    /// Changes how a tool's boot went.
    pub fn set_tool_health(&self, name: &str, health: Health) {
        let mut inner = write(&self.inner);
        if let Some(t) = inner.tools.iter_mut().find(|t| t.name == name) {
            t.health = health;
        }
    }

    /// Every tool, in boot order.
    pub fn tools(&self) -> Vec<ToolRecord> {
        read(&self.inner).tools.clone()
    }

    /// Every plugin, in boot order.
    pub fn plugins(&self) -> Vec<PluginRecord> {
        read(&self.inner).plugins.clone()
    }

    /// Records that plugin `owner` (`<domain>.<StructName>`) needs a tool
    /// through something it registered (see [`Need`]); nothing for an
    /// owner that is not a plugin (a tool, the app).
    ///
    /// ```
    /// use microcore::registry::{AppRegistry, Need};
    /// let registry = AppRegistry::new();
    /// registry.declare_need("users.Me", Need {
    ///     tool: "auth".into(),
    ///     via: "argument AuthUser of GET /me".into(),
    ///     location: "domains/users/plugins/me.rs:14".into(),
    /// });
    /// ```
    pub fn declare_need(&self, owner: &str, need: Need) {
        let mut inner = write(&self.inner);
        let plugin = inner.plugins.iter_mut().find(|p| p.name == owner);
        if let Some(p) = plugin.filter(|p| !p.needs.contains(&need)) {
            p.needs.push(need);
        }
    }

    /// One plugin by `<domain>.<StructName>`.
    pub fn plugin(&self, name: &str) -> Option<PluginRecord> {
        self.plugins().into_iter().find(|p| p.name == name)
    }

    /// The boot hands over the set-up tools (name, probe), so
    /// [`AppRegistry::health`] can ask them.
    pub(crate) fn set_probes(&self, probes: Vec<(&'static str, Probe)>) {
        let _ = self.probes.set(Probes(probes));
    }

    /// Every tool's record with its health now, in boot order: the set-up
    /// ones asked now ([`Tool::health`](crate::Tool::health)), all at once,
    /// each within 5 s; one that failed to set up keeps its setup error.
    /// Empty before the boot finished setting tools up.
    pub async fn health(&self) -> Vec<ToolRecord> {
        let Some(Probes(probes)) = self.probes.get() else {
            return Vec::new();
        };
        let checks = self.tools().into_iter().map(|mut record| async move {
            if let Some((_, probe)) = probes.iter().find(|(name, _)| *name == record.name) {
                record.health = tokio::time::timeout(HEALTH_TIMEOUT, probe())
                    .await
                    .unwrap_or_else(|_| Health::Failing("health check timed out after 5 s".into()));
            }
            record
        });
        futures::future::join_all(checks).await
    }
}
