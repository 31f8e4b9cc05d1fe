//! The lifecycle traits a plugin and a tool implement.
//!
//! Both are explicit and small, in the spirit of bevy's `Plugin`: every step
//! has a default, so a plugin writes only the steps it needs.

use std::any::Any;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use futures::future::BoxFuture;

use crate::diagnostic::Diagnostic;
use crate::registry::{AppRegistry, Health};
use crate::{Error, ToolHandle};

/// A feature: one struct whose fields are tool handles.
///
/// `on_boot` runs once, after every tool is set up, in plugin-name order;
/// this is where a plugin registers its routes and subscriptions.
///
/// ```
/// use microcore::prelude::*;
///
/// #[plugin(domain = "docs")]
/// pub struct Hello {}
///
/// impl Plugin for Hello {
///     async fn on_boot(self: Arc<Self>) -> Result<()> {
///         Ok(())
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is a `#[plugin]` but does not implement `Plugin`",
    note = "add `impl microcore::Plugin for {Self} {{}}`, with `async fn on_boot(self: Arc<Self>) -> Result<()>` to register routes or subscriptions"
)]
pub trait Plugin: Send + Sync + 'static {
    /// Registers what the plugin offers. An error, a panic or a run past
    /// the boot timeout marks the plugin `DEAD` and withdraws what it registered.
    fn on_boot(self: Arc<Self>) -> impl Future<Output = Result<(), Error>> + Send {
        async { Ok(()) }
    }

    /// Runs at shutdown, after the tools stopped taking new work and before
    /// they are shut down.
    fn on_shutdown(self: Arc<Self>) -> impl Future<Output = Result<(), Error>> + Send {
        async { Ok(()) }
    }
}

/// What the kernel lends a tool while it sets up.
#[derive(Debug, Clone)]
pub struct ToolContext {
    /// The registry of this app (plugins, tools, their status).
    pub registry: Arc<AppRegistry>,
    /// Configuration values set on this app with [`App::with_var`](crate::App::with_var),
    /// which win over the environment: tests boot several differently
    /// configured apps in one process this way.
    pub vars: Arc<BTreeMap<String, String>>,
    /// A dry run (`check`, `routes`, `context`): set up on the tool's
    /// [`Tool::DRY_RUN`] settings and serve nothing, bind nothing.
    pub dry_run: bool,
}

/// An implementation of a tool: sets up, hands out its handle, shuts down.
///
/// ```
/// use microcore::prelude::*;
///
/// /// Tells the time.
/// #[derive(Clone, Debug)]
/// pub struct Clock;
/// impl ToolHandle for Clock { const NAME: &'static str = "clock"; }
///
/// #[tool]
/// pub struct SystemClock {}
///
/// impl Tool for SystemClock {
///     type Handle = Clock;
///     async fn setup(&self, _: &ToolContext) -> Result<Clock> {
///         Ok(Clock)
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is a `#[tool]` but does not implement `Tool`",
    note = "add `impl microcore::Tool for {Self} {{ type Handle = ...; async fn setup(&self, ctx: &ToolContext) -> Result<Self::Handle> {{ ... }} }}`"
)]
pub trait Tool: Send + Sync + 'static {
    /// What plugins get; its `NAME` is the tool's name.
    type Handle: ToolHandle;

    /// A critical tool whose setup fails stops the boot (`db`, `http`).
    const CRITICAL: bool = false;

    /// Settings for a dry run (`check`): the tool set up against throwaway
    /// in-memory backends, so every plugin's `on_boot` can declare its
    /// routes and events without touching real infrastructure.
    const DRY_RUN: &'static [(&'static str, &'static str)] = &[];

    /// Runs before the graph check, before any other tool: only for tools
    /// that everything else relies on from the first line (the log tool).
    fn pre_boot() {}

    /// Connects, binds, validates its configuration, and returns the handle.
    fn setup(&self, ctx: &ToolContext) -> impl Future<Output = Result<Self::Handle, Error>> + Send;

    /// Checks what the plugins registered, as a whole, after every
    /// plugin's `on_boot` and before anything is served (the http tool:
    /// two routes that collide). Any diagnostic stops the boot; every
    /// tool's are reported together, and `check` reports them too.
    fn verify(&self) -> Vec<Diagnostic> {
        Vec::new()
    }

    /// Runs after every plugin's `on_boot` (http starts serving here).
    fn on_boot_complete(&self) -> impl Future<Output = Result<(), Error>> + Send {
        async { Ok(()) }
    }

    /// A plugin died during boot: forget what it registered.
    fn withdraw(&self, plugin: &str) {
        let _ = plugin;
    }

    /// Stop taking new work and finish what is in flight (first step of shutdown).
    fn drain(&self) -> impl Future<Output = ()> + Send {
        async {}
    }

    /// Release resources (last step of shutdown, in reverse boot order).
    fn shutdown(&self) -> impl Future<Output = Result<(), Error>> + Send {
        async { Ok(()) }
    }

    /// Whether the tool works now.
    fn health(&self) -> impl Future<Output = Health> + Send {
        async { Health::Ok }
    }
}

/// Object-safe form of [`Plugin`], implemented for every plugin.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is a `#[plugin]` but does not implement `Plugin`",
    label = "this plugin needs `impl Plugin for {Self}`",
    note = "add `impl microcore::Plugin for {Self} {{}}`, with `async fn on_boot(self: Arc<Self>) -> Result<()>` to register routes or subscriptions"
)]
pub trait DynPlugin: Send + Sync {
    /// See [`Plugin::on_boot`].
    fn on_boot(self: Arc<Self>) -> BoxFuture<'static, Result<(), Error>>;
    /// See [`Plugin::on_shutdown`].
    fn on_shutdown(self: Arc<Self>) -> BoxFuture<'static, Result<(), Error>>;
}

impl<P: Plugin> DynPlugin for P {
    fn on_boot(self: Arc<Self>) -> BoxFuture<'static, Result<(), Error>> {
        Box::pin(Plugin::on_boot(self))
    }
    fn on_shutdown(self: Arc<Self>) -> BoxFuture<'static, Result<(), Error>> {
        Box::pin(Plugin::on_shutdown(self))
    }
}

/// A type-erased handle, as stored in the [`Container`](crate::Container).
pub type ErasedHandle = Arc<dyn Any + Send + Sync>;

/// Object-safe form of [`Tool`], implemented for every tool.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is a `#[tool]` but does not implement `Tool`",
    label = "this tool needs `impl Tool for {Self}`",
    note = "add `impl microcore::Tool for {Self} {{ type Handle = ...; async fn setup(&self, ctx: &ToolContext) -> Result<Self::Handle> {{ ... }} }}`"
)]
pub trait DynTool: Send + Sync {
    /// See [`Tool::setup`].
    fn setup<'a>(&'a self, ctx: &'a ToolContext) -> BoxFuture<'a, Result<ErasedHandle, Error>>;
    /// See [`Tool::verify`].
    fn verify(&self) -> Vec<Diagnostic>;
    /// See [`Tool::on_boot_complete`].
    fn on_boot_complete(&self) -> BoxFuture<'_, Result<(), Error>>;
    /// See [`Tool::withdraw`].
    fn withdraw(&self, plugin: &str);
    /// See [`Tool::drain`].
    fn drain(&self) -> BoxFuture<'_, ()>;
    /// See [`Tool::shutdown`].
    fn shutdown(&self) -> BoxFuture<'_, Result<(), Error>>;
    /// See [`Tool::health`].
    fn health(&self) -> BoxFuture<'_, Health>;
}

impl<T: Tool> DynTool for T {
    fn setup<'a>(&'a self, ctx: &'a ToolContext) -> BoxFuture<'a, Result<ErasedHandle, Error>> {
        Box::pin(async move {
            let handle = Tool::setup(self, ctx).await?;
            Ok(Arc::new(handle) as ErasedHandle)
        })
    }
    fn verify(&self) -> Vec<Diagnostic> {
        Tool::verify(self)
    }
    fn on_boot_complete(&self) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(Tool::on_boot_complete(self))
    }
    fn withdraw(&self, plugin: &str) {
        Tool::withdraw(self, plugin)
    }
    fn drain(&self) -> BoxFuture<'_, ()> {
        Box::pin(Tool::drain(self))
    }
    fn shutdown(&self) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(Tool::shutdown(self))
    }
    fn health(&self) -> BoxFuture<'_, Health> {
        Box::pin(Tool::health(self))
    }
}
