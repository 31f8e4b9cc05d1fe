//! The `Http` handle: how plugins register routes.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodFilter, MethodRouter, on};
use microcore::ToolHandle;

use crate::handler::{Describe, PluginFn};
use crate::openapi::OperationDoc;

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
    pub(crate) doc: OperationDoc,
}

/// Wraps the whole router (app-wide middleware added by a tool or plugin).
pub(crate) type RouterLayer = Box<dyn FnOnce(Router) -> Router + Send>;

#[derive(Default)]
pub(crate) struct Shared {
    pub(crate) routes: Mutex<Vec<RouteEntry>>,
    pub(crate) layers: Mutex<Vec<(&'static str, RouterLayer)>>,
    pub(crate) local_addr: OnceLock<SocketAddr>,
    pub(crate) served: OnceLock<Router>,
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
///         self.http.get("/hello", &self, Self::hello).summary("Say hello");
///         Ok(())
///     }
/// }
///
/// impl Hello {
///     async fn hello(self: Arc<Self>) -> Result<String> {
///         Ok("hello".into())
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
        #[doc = concat!("Serves `", $name, " path` with `handler`, a method of `plugin`; the route is documented in OpenAPI from the handler's types.")]
        pub fn $fn_name<P, F, T>(&self, path: &str, plugin: &Arc<P>, handler: F) -> RouteDoc<'_>
        where
            P: Send + Sync + 'static,
            F: Clone + Send + Sync + 'static,
            PluginFn<P, F>: Handler<T, ()> + Describe<T>,
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
    ///
    /// ```
    /// # let http = microcore_http::Http::detached();
    /// let admin = http.group("/admin");
    /// // admin.get("/stats", ...) serves GET /admin/stats
    /// ```
    pub fn group(&self, prefix: &str) -> Self {
        Self {
            prefix: Arc::from(format!("{}{}", self.prefix, prefix.trim_end_matches('/'))),
            ..self.clone()
        }
    }

    /// Serves `path` with any axum method router, for what the typed
    /// methods do not cover (WebSocket upgrades, SSE, static files). Such
    /// routes are left out of OpenAPI unless documented with the builder.
    ///
    /// `router` must only answer `method` (`axum::routing::get(...)` for GET).
    pub fn route(&self, method: Method, path: &str, router: MethodRouter) -> RouteDoc<'_> {
        let name: &'static str = match method {
            Method::GET => "GET",
            Method::POST => "POST",
            Method::PUT => "PUT",
            Method::PATCH => "PATCH",
            Method::DELETE => "DELETE",
            _ => "OTHER",
        };
        let doc = OperationDoc {
            hidden: true,
            ..OperationDoc::default()
        };
        self.push(name, path, router, doc)
    }

    fn on<P, F, T>(
        &self,
        filter: MethodFilter,
        name: &'static str,
        path: &str,
        plugin: &Arc<P>,
        f: F,
    ) -> RouteDoc<'_>
    where
        P: Send + Sync + 'static,
        F: Clone + Send + Sync + 'static,
        PluginFn<P, F>: Handler<T, ()> + Describe<T>,
        T: 'static,
    {
        let mut doc = OperationDoc::default();
        <PluginFn<P, F> as Describe<T>>::describe(&mut doc);
        doc.operation_id =
            Some(format!("{}.{}", self.owner, handler_name::<F>()).replace('.', "_"));
        let handler = PluginFn {
            plugin: plugin.clone(),
            f,
        };
        self.push(name, path, on(filter, handler), doc)
    }

    fn push(
        &self,
        method_name: &'static str,
        path: &str,
        router: MethodRouter,
        mut doc: OperationDoc,
    ) -> RouteDoc<'_> {
        if let Some((domain, _)) = self.owner.split_once('.') {
            doc.tags.push(domain.to_string());
        }
        let mut routes = lock(&self.shared.routes);
        routes.push(RouteEntry {
            method_name,
            path: format!("{}{}", self.prefix, path),
            owner: self.owner,
            router,
            doc,
        });
        RouteDoc {
            http: self,
            index: routes.len() - 1,
        }
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

    /// The app's whole router, transport stack included, once the app has
    /// booted: tests drive it with `tower::ServiceExt::oneshot`, no socket.
    ///
    /// ```no_run
    /// # async fn demo(running: microcore::Running) {
    /// use tower::ServiceExt;
    /// let router = running.handle::<microcore_http::Http>().unwrap().router().unwrap();
    /// let response = router
    ///     .oneshot(axum::http::Request::get("/ping").body(axum::body::Body::empty()).unwrap())
    ///     .await
    ///     .unwrap();
    /// assert_eq!(response.status(), 200);
    /// # }
    /// ```
    pub fn router(&self) -> Option<Router> {
        self.shared.served.get().cloned()
    }

    /// The address the server listens on, once the http tool is set up
    /// (useful with `HTTP_PORT=0`).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.shared.local_addr.get().copied()
    }
}

/// The method name of a handler (`execute` for `ListUsers::execute`).
fn handler_name<F>() -> &'static str {
    let full = std::any::type_name::<F>();
    full.rsplit("::").next().unwrap_or(full)
}

/// Refines the OpenAPI entry of the route just registered.
///
/// ```
/// # use microcore::prelude::*;
/// # use microcore_http::Http;
/// # #[plugin(domain = "docs")] pub struct GetUser { http: Http }
/// # impl Plugin for GetUser {}
/// # impl GetUser { async fn execute(self: Arc<Self>) -> Result<()> { Ok(()) } }
/// # fn demo(this: &Arc<GetUser>) {
/// this.http
///     .get("/users/{user_id}", this, GetUser::execute)
///     .summary("One user")
///     .responds(404, "User not found");
/// # }
/// ```
#[derive(Debug)]
pub struct RouteDoc<'a> {
    http: &'a Http,
    index: usize,
}

impl RouteDoc<'_> {
    fn edit(self, change: impl FnOnce(&mut OperationDoc)) -> Self {
        if let Some(route) = lock(&self.http.shared.routes).get_mut(self.index) {
            change(&mut route.doc);
        }
        self
    }

    /// A one-line summary.
    pub fn summary(self, summary: &str) -> Self {
        self.edit(|d| d.summary = Some(summary.to_string()))
    }

    /// A longer description.
    pub fn description(self, description: &str) -> Self {
        self.edit(|d| d.description = Some(description.to_string()))
    }

    /// Groups the route under a tag (besides its domain's).
    pub fn tag(self, tag: &str) -> Self {
        self.edit(|d| {
            if !d.tags.iter().any(|t| t == tag) {
                d.tags.push(tag.to_string());
            }
        })
    }

    /// Documents an error status the handler answers (`404`, `403`, ...).
    pub fn responds(self, status: u16, description: &str) -> Self {
        self.edit(|d| d.error(status, description))
    }

    /// The success status, when not 200 (`201` for a creation).
    pub fn status(self, status: u16) -> Self {
        self.edit(|d| {
            if let Some(success) = &mut d.success {
                success.0 = status;
            }
        })
    }

    /// Keeps the route out of the OpenAPI document.
    pub fn hidden(self) -> Self {
        self.edit(|d| d.hidden = true)
    }
}
