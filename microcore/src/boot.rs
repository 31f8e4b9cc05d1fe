//! The boot, start to finish. Read this file to know the order of things:
//!
//! 1. every tool's `pre_boot` (the log tool installs its subscriber);
//! 2. the wiring check over all descriptors ([`crate::graph::check`]);
//!    any problem stops here, before anything is built;
//! 3. tools, level by level in dependency order, each level set up
//!    concurrently; a failed critical tool (or invalid configuration) stops
//!    the boot, any other failed tool is marked `FAIL`;
//! 4. plugins, by name: `SKIPPED` if a tool they need failed, else built and
//!    their `on_boot` run; an error, panic or timeout marks them `DEAD` and
//!    every tool forgets what they registered;
//! 5. every tool's `verify` of what the plugins registered (http: routes
//!    that collide); every diagnostic of every tool is reported at once
//!    and stops the boot;
//! 6. every tool's `on_boot_complete`, in dependency order (http serves).

use std::collections::BTreeSet;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::FutureExt;
use tracing::{error, info, warn};

use crate::container::{Container, Wiring};
use crate::descriptor::{PluginDescriptor, ToolDescriptor};
use crate::diagnostic::Diagnostics;
use crate::graph::WiringErrors;
use crate::lifecycle::{DynPlugin, DynTool, ToolContext};
use crate::registry::{AppRegistry, Health, PluginRecord, PluginStatus, Probe, ToolRecord};
use crate::{App, ErrorKind, ToolHandle};

/// Why the app did not start.
#[derive(Debug, thiserror::Error)]
pub enum BootError {
    /// The wiring check failed; every problem is listed.
    #[error("{0}")]
    Wiring(#[from] WiringErrors),
    /// A kernel setting (`BOOT_TIMEOUT_SECS`, `SHUTDOWN_TIMEOUT_SECS`) is invalid.
    #[error("error: {0}")]
    Config(String),
    /// What the plugins registered does not fit together (two routes
    /// collide); every problem is listed.
    #[error("{0}")]
    Rejected(#[from] Diagnostics),
    /// A critical tool, or a tool's configuration, failed.
    #[error("error: tool '{tool}' ({location}) failed to start: {message}")]
    Tool {
        /// The tool's name.
        tool: &'static str,
        /// Where it is implemented.
        location: String,
        /// The reason, with its causes.
        message: String,
    },
}

/// A booted app: its tools serve, its ready plugins are live.
///
/// ```no_run
/// # async fn demo() -> Result<(), microcore::BootError> {
/// let running = microcore::App::linked().boot().await?;
/// println!("{} plugins", running.registry().plugins().len());
/// running.shutdown().await;
/// # Ok(()) }
/// ```
pub struct Running {
    pub(crate) registry: Arc<AppRegistry>,
    pub(crate) container: Container,
    pub(crate) tools: Vec<(&'static ToolDescriptor, Arc<dyn DynTool>)>,
    pub(crate) plugins: Vec<(String, Arc<dyn DynPlugin>)>,
    pub(crate) shutdown_timeout: Duration,
}

impl std::fmt::Debug for Running {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let plugins: Vec<&String> = self.plugins.iter().map(|p| &p.0).collect();
        f.debug_struct("Running")
            .field("tools", &self.container)
            .field("plugins", &plugins)
            .finish()
    }
}

impl Running {
    /// This app's registry.
    pub fn registry(&self) -> &Arc<AppRegistry> {
        &self.registry
    }

    /// A tool's handle, e.g. to ask the http tool which port it bound.
    pub fn handle<H: ToolHandle>(&self) -> Option<H> {
        self.container.get("app").ok()
    }
}

impl App {
    /// Boots the app (see the module docs for the order).
    ///
    /// # Errors
    /// [`BootError`] for wiring mistakes, a failed critical tool or invalid
    /// configuration. Failing plugins and non-critical tools do not stop it.
    pub async fn boot(mut self) -> Result<Running, BootError> {
        let started = Instant::now();
        let mut pre_boots: Vec<fn()> = self.tools.iter().map(|t| t.pre_boot).collect();
        pre_boots.dedup_by_key(|f| *f as usize);
        pre_boots.iter().for_each(|f| f());
        self.boot_timeout = self.seconds("BOOT_TIMEOUT_SECS", self.boot_timeout)?;
        self.shutdown_timeout = self.seconds("SHUTDOWN_TIMEOUT_SECS", self.shutdown_timeout)?;
        report_found(&self);

        let plan = self.check()?;
        let registry = AppRegistry::new();
        let ctx = ToolContext {
            registry: registry.clone(),
            vars: Arc::new(self.vars.clone()),
            dry_run: self.dry_run,
        };
        let mut container = Container::default();
        let mut tools = Vec::new();
        let mut failed: BTreeSet<&'static str> = BTreeSet::new();

        for descs in &plan.levels {
            let setups = descs.iter().map(|d| {
                let missing = d.deps.iter().find(|dep| failed.contains(dep.tool));
                let (container, ctx) = (&container, &ctx);
                let timeout = self.boot_timeout;
                async move {
                    if let Some(dep) = missing {
                        let why = format!("needs tool '{}', which failed", dep.tool);
                        return Err((ErrorKind::Internal, why));
                    }
                    let owner: &'static str = leak(format!("tool:{}", d.name));
                    let tool = (d.construct)(&Wiring::new(container, owner))
                        .map_err(|e| (ErrorKind::Internal, e.to_string()))?;
                    let handle = guarded(timeout, tool.setup(ctx)).await?;
                    Ok((tool, handle))
                }
            });
            for (d, outcome) in descs.iter().zip(futures::future::join_all(setups).await) {
                let record = |health| ToolRecord {
                    name: d.name.into(),
                    health,
                    type_name: d.type_name.into(),
                    location: d.location.to_string(),
                    tools: d.deps.iter().map(|x| x.tool.to_string()).collect(),
                    critical: d.critical,
                };
                match outcome {
                    Ok((tool, handle)) => {
                        container.insert_erased(d.name, handle);
                        registry.add_tool(record(Health::Ok));
                        tools.push((*d, tool));
                    }
                    Err(step) => {
                        registry.add_tool(record(Health::Failing(String::new())));
                        tool_failure(d, step, &registry, self.keep_going)?;
                        failed.insert(d.name);
                    }
                }
            }
        }

        let mut plugins = Vec::new();
        for desc in &plan.plugins {
            let name = desc.qualified_name();
            registry.add_plugin(plugin_record(desc, &name));
            if let Some(dep) = desc.deps.iter().find(|d| failed.contains(d.tool)) {
                let why = format!(
                    "tool '{}' (field '{}') failed to start",
                    dep.tool, dep.field
                );
                warn!(plugin = %name, "plugin skipped: {why}");
                registry.set_plugin_status(&name, PluginStatus::Skipped, Some(why));
                continue;
            }
            let booted = boot_plugin(desc, &name, &container, self.boot_timeout).await;
            match booted.and_then(|p| unmet_need(&registry, &name, &container).map_or(Ok(p), Err)) {
                Ok(plugin) => {
                    registry.set_plugin_status(&name, PluginStatus::Ready, None);
                    plugins.push((name, plugin));
                }
                Err(why) => {
                    error!(plugin = %name, file = %desc.location, "plugin failed to boot: {why}");
                    tools.iter().for_each(|(_, t)| t.withdraw(&name));
                    registry.set_plugin_status(&name, PluginStatus::Dead, Some(why));
                }
            }
        }

        let problems: Vec<_> = tools.iter().flat_map(|(_, t)| t.verify()).collect();
        if !problems.is_empty() {
            return Err(Diagnostics(problems).into());
        }
        registry.set_probes(tools.iter().map(|(d, t)| (d.name, probe(t))).collect());
        for (d, tool) in &tools {
            if let Err(step) = guarded(self.boot_timeout, tool.on_boot_complete()).await {
                tool_failure(d, step, &registry, self.keep_going)?;
            }
        }

        let statuses = registry.plugins();
        let count = |s| statuses.iter().filter(|p| p.status == s).count();
        info!(
            "booted in {} ms: {} tools, {} plugins ready, {} dead, {} skipped",
            started.elapsed().as_millis(),
            tools.len(),
            count(PluginStatus::Ready),
            count(PluginStatus::Dead),
            count(PluginStatus::Skipped),
        );
        let running = Running {
            registry,
            container,
            tools,
            plugins,
            shutdown_timeout: self.shutdown_timeout,
        };
        Ok(running)
    }
}

impl App {
    /// A timeout from the app's vars or the environment (read after
    /// `pre_boot`, so `.env` counts), or `default`.
    fn seconds(&self, name: &str, default: Duration) -> Result<Duration, BootError> {
        let raw = self
            .vars
            .get(name)
            .cloned()
            .or_else(|| std::env::var(name).ok());
        let Some(raw) = raw else {
            return Ok(default);
        };
        let seconds = raw.trim().parse::<f64>().ok();
        let seconds = seconds.filter(|s| s.is_finite() && *s > 0.0);
        seconds.map(Duration::from_secs_f64).ok_or_else(|| {
            BootError::Config(format!(
                "{name}='{raw}' is invalid: expected a number of seconds above 0, such as 10"
            ))
        })
    }
}

fn report_found(app: &App) {
    let names: BTreeSet<&str> = app.tools.iter().map(|t| t.name).collect();
    let names = names.into_iter().collect::<Vec<_>>().join(", ");
    let (tools, plugins) = (app.tools.len(), app.plugins.len());
    info!("found {tools} tools ({names}) and {plugins} plugins");
    // A command that boots tools only (`migrate`) has no plugins on purpose.
    if tools == 0 || (plugins == 0 && !app.tools_only) {
        warn!(
            "found {tools} tools and {plugins} plugins: a crate the binary never names is dropped by the linker; \
             make sure the app names every tool and domain crate (`use some_crate as _;`)"
        );
    }
}

fn plugin_record(desc: &PluginDescriptor, name: &str) -> PluginRecord {
    PluginRecord {
        name: name.to_string(),
        domain: desc.domain().to_string(),
        status: PluginStatus::Pending,
        error: None,
        tools: desc.deps.iter().map(|d| d.tool.to_string()).collect(),
        location: desc.location.to_string(),
        critical: desc.critical,
        needs: Vec::new(),
    }
}

async fn boot_plugin(
    desc: &PluginDescriptor,
    name: &str,
    container: &Container,
    timeout: Duration,
) -> Result<Arc<dyn DynPlugin>, String> {
    let owner: &'static str = leak(name.to_string());
    guarded(timeout, async {
        let plugin = (desc.construct)(&Wiring::new(container, owner))
            .map_err(|e| crate::Error::internal(e.to_string()))?;
        plugin.clone().on_boot().await?;
        Ok(plugin)
    })
    .await
    .map_err(|(_, why)| why)
}

/// The first tool a booted plugin declared it needs (see
/// [`AppRegistry::declare_need`]) that is not set up, as the reason it is `DEAD`.
fn unmet_need(registry: &AppRegistry, name: &str, container: &Container) -> Option<String> {
    let record = registry.plugin(name)?;
    let linked: Vec<&str> = container.names().collect();
    let need = record
        .needs
        .iter()
        .find(|n| !linked.contains(&n.tool.as_str()))?;
    let linked = linked.join(", ");
    Some(format!(
        "{}: {} needs tool '{}', which is not set up (linked: {linked}); help: add the crate that provides '{}' to the app's [dependencies], or remove the {}",
        need.location, need.via, need.tool, need.tool, need.via
    ))
}

/// A failed lifecycle step: its kind (a panic or timeout is `Internal`) and message.
pub(crate) type StepError = (ErrorKind, String);

/// Runs one lifecycle step, turning an error, a panic or a timeout into a
/// [`StepError`].
pub(crate) async fn guarded<T>(
    timeout: Duration,
    step: impl Future<Output = Result<T, crate::Error>>,
) -> Result<T, StepError> {
    match tokio::time::timeout(timeout, AssertUnwindSafe(step).catch_unwind()).await {
        Ok(Ok(Ok(value))) => Ok(value),
        Ok(Ok(Err(e))) => Err((e.kind(), e.chain())),
        Ok(Err(panic)) => Err((
            ErrorKind::Internal,
            format!("panicked: {}", crate::panic::message(&*panic)),
        )),
        Err(_) => Err((
            ErrorKind::Internal,
            format!("timed out after {} s", timeout.as_secs_f32()),
        )),
    }
}

/// A failed step of a tool: stops the boot if the tool is critical or its
/// configuration is invalid, else marks it `FAIL`.
fn tool_failure(
    d: &ToolDescriptor,
    (kind, message): StepError,
    registry: &AppRegistry,
    keep_going: bool,
) -> Result<(), BootError> {
    if (d.critical || kind == ErrorKind::Config) && !keep_going {
        return Err(BootError::Tool {
            tool: d.name,
            location: d.location.to_string(),
            message,
        });
    }
    error!(tool = d.name, "tool failed: {message}");
    registry.set_tool_health(d.name, Health::Failing(message));
    Ok(())
}

/// Asks `tool` for its health, as the registry's health checks do.
fn probe(tool: &Arc<dyn DynTool>) -> Probe {
    let tool = tool.clone();
    Arc::new(move || {
        let tool = tool.clone();
        Box::pin(async move { tool.health().await })
    })
}

/// Names live as long as the process: a few bytes per plugin per boot.
fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}
