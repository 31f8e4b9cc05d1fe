//! The `Http` handle: how plugins register routes.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodFilter, MethodRouter, on};
use microcore::ToolHandle;

use crate::handler::PluginFn;

/// Locks a mutex; a panic elsewhere while it was held does not poison the
/// route table for everyone else.
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// One registered route.
#[derive(Debug)]
pub(crate) struct RouteEntry {
    pub(crate) method_name: &'static str,
    pub(crate) path: String,
    pub(crate) owner: &'static str,
    pub(crate) router: MethodRouter,
}

/// Wraps the whole router (app-wide middleware added by a tool or plugin).
pub(crate) type RouterLayer = Box<dyn FnOnce(Router) -> Router + Send>;

#[derive(Default)]
pub(crate) struct Shared {
    pub(crate) routes: Mutex<Vec<RouteEntry>>,
    pub(crate) layers: Mutex<Vec<(&'static str, RouterLayer)>>,
    pub(crate) local_addr: OnceLock<SocketAddr>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("routes", &self.routes)
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

/// Registers routes; each plugin gets a copy tagged with its name, so a
/// plugin that dies during boot has its routes withdrawn.
///
/// ```
/// use microcore::prelude::*;
/// use microcore_http::Http;
///
/// #[plugin(domain = "docs")]
/// pub struct Hello { http: Http }
///
/// impl Plugin for Hello {
///     async fn on_boot(self: Arc<Self>) -> Result<()> {
///         self.http.get("/hello", &self, Self::hello);
///         Ok(())
///     }
/// }
///
/// impl Hello {
///     async fn hello(self: Arc<Self>) -> Result<&'static str> {
///         Ok("hello")
///     }
/// }
/// ```
#[derive(Debug, Clone)]
pub struct Http {
    pub(crate) shared: Arc<Shared>,
    owner: &'static str,
    prefix: Arc<str>,
}

impl ToolHandle for Http {
    const NAME: &'static str = "http";

    fn for_owner(&self, owner: &'static str) -> Self {
        Self {
            owner,
            ..self.clone()
        }
    }
}

macro_rules! method_fns {
    ($($fn_name:ident => $filter:ident, $name:literal;)*) => {$(
        #[doc = concat!("Serves `", $name, " path` with `handler`, a method of `plugin`.")]
        pub fn $fn_name<P, F, T>(&self, path: &str, plugin: &Arc<P>, handler: F) -> &Self
        where
            P: Send + Sync + 'static,
            F: Clone + Send + Sync + 'static,
            PluginFn<P, F>: Handler<T, ()>,
            T: 'static,
        {
            self.on(MethodFilter::$filter, $name, path, plugin, handler)
        }
    )*};
}

impl Http {
    /// A handle not attached to a running server (unit tests of plugins
    /// that only register routes).
    pub fn detached() -> Self {
        Self::new(Arc::default())
    }

    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self {
            shared,
            owner: "app",
            prefix: Arc::from(""),
        }
    }

    method_fns! {
        get => GET, "GET";
        post => POST, "POST";
        put => PUT, "PUT";
        patch => PATCH, "PATCH";
        delete => DELETE, "DELETE";
    }

    /// A handle whose routes all start with `prefix` (a route group).
    pub fn group(&self, prefix: &str) -> Self {
        Self {
            prefix: Arc::from(format!("{}{}", self.prefix, prefix.trim_end_matches('/'))),
            ..self.clone()
        }
    }

    /// Serves `path` with any axum method router, for what the typed
    /// methods do not cover (WebSocket upgrades, SSE, static files).
    ///
    /// `router` must only answer `method` (`axum::routing::get(...)` for GET).
    pub fn route(&self, method: Method, path: &str, router: MethodRouter) -> &Self {
        let name: &'static str = match method {
            Method::GET => "GET",
            Method::POST => "POST",
            Method::PUT => "PUT",
            Method::PATCH => "PATCH",
            Method::DELETE => "DELETE",
            _ => "OTHER",
        };
        self.push(name, path, router)
    }

    fn on<P, F, T>(
        &self,
        filter: MethodFilter,
        name: &'static str,
        path: &str,
        plugin: &Arc<P>,
        f: F,
    ) -> &Self
    where
        P: Send + Sync + 'static,
        F: Clone + Send + Sync + 'static,
        PluginFn<P, F>: Handler<T, ()>,
        T: 'static,
    {
        let handler = PluginFn {
            plugin: plugin.clone(),
            f,
        };
        self.push(name, path, on(filter, handler))
    }

    fn push(&self, method_name: &'static str, path: &str, router: MethodRouter) -> &Self {
        let entry = RouteEntry {
            method_name,
            path: format!("{}{}", self.prefix, path),
            owner: self.owner,
            router,
        };
        lock(&self.shared.routes).push(entry);
        self
    }

    /// Wraps every route of the app in `layer` (app-wide middleware: an
    /// `Extension`, a tower layer). Runs inside the transport stack, so
    /// requests already have their id and errors still get the envelope.
    ///
    /// ```
    /// # let http = microcore_http::Http::detached();
    /// http.layer(|router| router.layer(axum::Extension("shared value")));
    /// ```
    pub fn layer(&self, layer: impl FnOnce(Router) -> Router + Send + 'static) -> &Self {
        lock(&self.shared.layers).push((self.owner, Box::new(layer)));
        self
    }

    /// The address the server listens on, once the http tool is set up
    /// (useful with `HTTP_PORT=0`).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.shared.local_addr.get().copied()
    }
}
