//! The registry: what this app is made of and how each part is doing.
//!
//! Filled by the boot, read by anyone (the `registry` tool hands it to
//! plugins; the CLI prints it). One registry per app, never a global, so
//! tests can boot many apps side by side.

use std::sync::{Arc, RwLock};

use serde::Serialize;

/// A tool's state, as `/system/status` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ToolStatus {
    /// Set up and healthy.
    Ok,
    /// Setup or health check failed.
    Fail,
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
    /// `OK` or `FAIL`.
    pub status: ToolStatus,
    /// Why it failed, or a short note.
    pub message: String,
    /// The implementing type.
    pub type_name: String,
    /// `file:line` of the implementation.
    pub location: String,
    /// Tools it depends on.
    pub tools: Vec<String>,
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
}

#[derive(Debug, Default)]
struct Inner {
    tools: Vec<ToolRecord>,
    plugins: Vec<PluginRecord>,
}

/// The live inventory of one app.
///
/// ```
/// use microcore::registry::*;
/// let r = Registry::default();
/// r.upsert_tool(ToolRecord {
///     name: "http".into(), status: ToolStatus::Ok, message: String::new(),
///     type_name: "HttpTool".into(), location: "tools/http/src/tool.rs:10".into(), tools: vec![],
/// });
/// assert_eq!(r.tools()[0].status, ToolStatus::Ok);
/// ```
#[derive(Debug, Default)]
pub struct Registry {
    inner: RwLock<Inner>,
}

impl Registry {
    /// A fresh, shareable registry.
    pub fn new() -> Arc<Self> {
        Arc::default()
    }

    /// Adds or replaces a tool's record.
    pub fn upsert_tool(&self, record: ToolRecord) {
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        match inner.tools.iter_mut().find(|t| t.name == record.name) {
            Some(slot) => *slot = record,
            None => inner.tools.push(record),
        }
    }

    /// Adds or replaces a plugin's record.
    pub fn upsert_plugin(&self, record: PluginRecord) {
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        match inner.plugins.iter_mut().find(|p| p.name == record.name) {
            Some(slot) => *slot = record,
            None => inner.plugins.push(record),
        }
    }

    /// Changes a plugin's status (and error).
    pub fn set_plugin_status(&self, name: &str, status: PluginStatus, error: Option<String>) {
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        if let Some(p) = inner.plugins.iter_mut().find(|p| p.name == name) {
            p.status = status;
            p.error = error;
        }
    }

    /// Changes a tool's status (and message).
    pub fn set_tool_status(&self, name: &str, status: ToolStatus, message: String) {
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = inner.tools.iter_mut().find(|t| t.name == name) {
            t.status = status;
            t.message = message;
        }
    }

    /// Every tool, in boot order.
    pub fn tools(&self) -> Vec<ToolRecord> {
        self.inner
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .tools
            .clone()
    }

    /// Every plugin, in boot order.
    pub fn plugins(&self) -> Vec<PluginRecord> {
        self.inner
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .plugins
            .clone()
    }

    /// One plugin by `<domain>.<StructName>`.
    pub fn plugin(&self, name: &str) -> Option<PluginRecord> {
        self.plugins().into_iter().find(|p| p.name == name)
    }
}
