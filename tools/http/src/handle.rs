//! The `Http` handle: how plugins register routes.

use std::net::SocketAddr;
use std::panic::Location;
use std::sync::{Arc, Mutex, OnceLock};

use microcore::sync::lock;

use axum::Router;
use axum::http::Method;
use axum::routing::{MethodFilter, MethodRouter};
use microcore::ToolHandle;

use microcore::method::Bound;

use crate::handler::{Describe, PluginFn, RouteHandler, Serve};
use crate::openapi::OperationDoc;

/// One registered route.
#[derive(Debug)]
pub(crate) struct RouteEntry {
    pub(crate) method_name: &'static str,
    pub(crate) path: String,
    pub(crate) owner: &'static str,
    /// The `.get()` (or `.route()`) call that registered it.
    pub(crate) site: &'static Location<'static>,
    pub(crate) router: MethodRouter,
    pub(crate) doc: OperationDoc,
}

/// What the app serves at one method and path, as `routes` lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RouteInfo {
    /// `GET`, `POST`, ...
    pub method: &'static str,
    /// The path template, prefix included: `/users/{user_id}`.
    pub path: String,
    /// The plugin that registered it: `users.GetUser`.
    pub plugin: &'static str,
    /// The file and line of the call that registered it:
    /// `domains/users/plugins/get_user.rs:21`.
    pub site: String,
    /// Who may call it, from the handler's extractors (`bearer` for
    /// `AuthUser`); `None`: anyone.
    pub auth: Option<&'static str>,
}

/// Wraps the whole router (app-wide middleware added by a tool or plugin).
pub(crate) type RouterLayer = Box<dyn FnOnce(Router) -> Router + Send>;

/// Puts one provided value into the extensions every request carries.
pub(crate) type Provide = Box<dyn FnOnce(&mut axum::http::Extensions) + Send>;

#[derive(Default)]
pub(crate) struct Shared {
    pub(crate) routes: Mutex<Vec<RouteEntry>>,
    pub(crate) layers: Mutex<Vec<(&'static str, RouterLayer)>>,
    pub(crate) provided: Mutex<Vec<(&'static str, Provide)>>,
    pub(crate) measure: Mutex<Option<Arc<dyn crate::RecordHits>>>,
    /// Where the tools a route's arguments need are declared.
    pub(crate) kernel: OnceLock<Arc<microcore::registry::AppRegistry>>,
    pub(crate) local_addr: OnceLock<SocketAddr>,
    pub(crate) served: OnceLock<Router>,
    /// The OpenAPI document, made when serving starts.
    pub(crate) document: OnceLock<utoipa::openapi::OpenApi>,
    /// Every route ever registered: the route table itself is handed to
    /// axum when serving starts.
    pub(crate) catalog: Mutex<Vec<RouteInfo>>,
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
#[derive(Clone)]
pub struct Http {
    pub(crate) shared: Arc<Shared>,
    owner: &'static str,
    prefix: Arc<str>,
    route_layers: Arc<[RouteLayer]>,
    /// Who guards this handle's routes ([`Http::guarded`]), for `routes`
    /// and OpenAPI.
    guard: Option<&'static str>,
}

/// Wraps one route's method router (middleware for a route or a handle).
type RouteLayer = Arc<dyn Fn(MethodRouter) -> MethodRouter + Send + Sync>;

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http")
            .field("owner", &self.owner)
            .field("prefix", &self.prefix)
            .field("route_layers", &self.route_layers.len())
            .field("guard", &self.guard)
            .finish()
    }
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

// One `pub fn` per HTTP method, in an impl block of their own so that
// `#[tool]` records them like hand-written ones.
macro_rules! method_fns {
    ($($fn_name:ident => $filter:ident, $name:literal;)*) => {
        #[microcore::tool(part_of = Http)]
        impl Http {$(
            #[doc = concat!("Serves `", $name, " path` with `handler`, a method of `plugin`; the route is documented in OpenAPI from the handler's types.")]
            #[doc = ""]
            #[doc = "A route that collides with another stops the boot, naming both calls."]
            #[track_caller]
            pub fn $fn_name<P, F, T>(&self, path: &str, plugin: &Arc<P>, handler: F) -> RouteDoc<'_>
            where
                P: Send + Sync + 'static,
                F: RouteHandler<P, T> + Clone + Send + Sync + 'static,
                PluginFn<P, F>: Serve<T> + Describe<T>,
                T: 'static,
            {
                self.on(MethodFilter::$filter, $name, path, plugin, handler, Location::caller())
            }
        )*}
    };
}

method_fns! {
    get => GET, "GET";
    post => POST, "POST";
    put => PUT, "PUT";
    patch => PATCH, "PATCH";
    delete => DELETE, "DELETE";
}

#[microcore::tool(guide = "../AI.md")]
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
            route_layers: Arc::from([]),
            guard: None,
        }
    }

    /// A handle whose routes are all wrapped in `layer` (middleware for
    /// one plugin, or one group). Layers added later wrap earlier ones.
    ///
    /// ```
    /// # let http = microcore_http::Http::detached();
    /// use tower_http::set_header::SetResponseHeaderLayer;
    /// use axum::http::{HeaderName, HeaderValue};
    /// let cached = http.with_layer(|route| {
    ///     route.layer(SetResponseHeaderLayer::overriding(
    ///         HeaderName::from_static("cache-control"),
    ///         HeaderValue::from_static("max-age=60"),
    ///     ))
    /// });
    /// // cached.get(...) routes answer with `cache-control: max-age=60`
    /// ```
    pub fn with_layer(
        &self,
        layer: impl Fn(MethodRouter) -> MethodRouter + Send + Sync + 'static,
    ) -> Self {
        let mut layers = self.route_layers.to_vec();
        layers.push(Arc::new(layer));
        Self {
            route_layers: Arc::from(layers),
            ..self.clone()
        }
    }

    /// A handle whose routes all pass `guard` first: access enforced once
    /// for a whole group, so a route added to it later is guarded without
    /// a check of its own. `who` names the rule, as `routes` lists it;
    /// OpenAPI documents the 401 the guard may answer.
    ///
    /// ```
    /// use axum::middleware::{Next, from_fn};
    /// use axum::extract::Request;
    ///
    /// async fn only_local(request: Request, next: Next) -> axum::response::Response {
    ///     // ... refuse here, or:
    ///     next.run(request).await
    /// }
    /// let http = microcore_http::Http::detached();
    /// let admin = http
    ///     .group("/admin")
    ///     .guarded("ADMIN_ROUTES", |route| route.layer(from_fn(only_local)));
    /// admin.route(axum::http::Method::GET, "/stats", axum::routing::get(|| async { "" }));
    /// assert_eq!(http.routes()[0].auth, Some("ADMIN_ROUTES"));
    /// ```
    pub fn guarded(
        &self,
        who: &'static str,
        guard: impl Fn(MethodRouter) -> MethodRouter + Send + Sync + 'static,
    ) -> Self {
        Self {
            guard: Some(who),
            ..self.with_layer(guard)
        }
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
    #[track_caller]
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
        self.push(name, path, router, doc, Location::caller())
    }

    fn on<P, F, T>(
        &self,
        filter: MethodFilter,
        name: &'static str,
        path: &str,
        plugin: &Arc<P>,
        f: F,
        site: &'static Location<'static>,
    ) -> RouteDoc<'_>
    where
        P: Send + Sync + 'static,
        F: RouteHandler<P, T> + Clone + Send + Sync + 'static,
        PluginFn<P, F>: Serve<T> + Describe<T>,
        T: 'static,
    {
        let mut doc = OperationDoc::default();
        <PluginFn<P, F> as Describe<T>>::describe(&mut doc);
        self.declare_needs(name, path, &doc, site);
        let method = Bound::<P, F>::name().unwrap_or("handler");
        doc.operation_id = Some(format!("{}.{method}", self.owner).replace('.', "_"));
        let handler = PluginFn(Bound::new(plugin, f));
        self.push(name, path, handler.into_route(filter), doc, site)
    }

    /// Tells the kernel which tools this route's arguments need, so the
    /// plugin's edges are whole and a missing tool is a boot error here.
    fn declare_needs(
        &self,
        method: &str,
        path: &str,
        doc: &OperationDoc,
        at: &'static Location<'static>,
    ) {
        let Some(kernel) = self.shared.kernel.get() else {
            return;
        };
        for (tool, argument) in &doc.needs {
            let need = microcore::registry::Need {
                tool: tool.to_string(),
                via: format!("argument `{argument}` of {method} {}{path}", self.prefix),
                location: microcore::descriptor::Location {
                    file: at.file(),
                    line: at.line(),
                }
                .to_string(),
            };
            kernel.declare_need(self.owner, need);
        }
    }

    fn push(
        &self,
        method_name: &'static str,
        path: &str,
        router: MethodRouter,
        mut doc: OperationDoc,
        site: &'static Location<'static>,
    ) -> RouteDoc<'_> {
        if let Some((domain, _)) = self.owner.split_once('.') {
            doc.tags.push(domain.to_string());
        }
        if let Some(who) = self.guard {
            doc.requires(who);
            doc.error(401, format!("Refused by {who}"));
        }
        let path = format!("{}{}", self.prefix, path);
        let router = self
            .route_layers
            .iter()
            .fold(router, |router, layer| layer(router));
        let listed = {
            let mut catalog = lock(&self.shared.catalog);
            catalog.push(RouteInfo {
                method: method_name,
                path: path.clone(),
                plugin: self.owner,
                site: {
                    let at = microcore::diagnostic::Span::caller(site, "");
                    format!("{}:{}", at.file, at.line)
                },
                auth: doc.auth,
            });
            catalog.len() - 1
        };
        let mut routes = lock(&self.shared.routes);
        routes.push(RouteEntry {
            method_name,
            path,
            owner: self.owner,
            site,
            router,
            doc,
        });
        RouteDoc {
            http: self,
            index: routes.len() - 1,
            listed,
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

    /// Makes `value` available to every request's handler and extractors,
    /// found with [`provided`](crate::provided) (the auth tool provides
    /// its verifier this way, for `AuthUser`). Cheaper than a
    /// [`layer`](Self::layer) with an `Extension`: all provided values
    /// travel as one extension, in the one transport stack.
    ///
    /// ```
    /// # let http = microcore_http::Http::detached();
    /// #[derive(Clone)]
    /// struct Greeting(&'static str);
    /// http.provide(Greeting("hello"));
    /// // an extractor: microcore_http::provided::<Greeting>(&parts.extensions)
    /// ```
    pub fn provide<T: Clone + Send + Sync + 'static>(&self, value: T) -> &Self {
        let insert: Provide = Box::new(move |extensions| {
            extensions.insert(value);
        });
        lock(&self.shared.provided).push((self.owner, insert));
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

    /// Every route registered so far, sorted by path then method. Routes
    /// of a plugin that died at boot stay listed: check its status in the
    /// registry.
    ///
    /// ```
    /// # use microcore::prelude::*;
    /// # #[plugin(domain = "docs")] pub struct Hello { http: microcore_http::Http }
    /// # impl Plugin for Hello {}
    /// # impl Hello { async fn hi(self: Arc<Self>) -> Result<()> { Ok(()) } }
    /// let http = microcore_http::Http::detached().for_owner("docs.Hello");
    /// let hello = Arc::new(Hello { http: http.clone() });
    /// http.get("/hi", &hello, Hello::hi);
    /// let routes = http.routes();
    /// assert_eq!((routes[0].method, routes[0].path.as_str()), ("GET", "/hi"));
    /// assert_eq!((routes[0].plugin, routes[0].auth), ("docs.Hello", None));
    /// ```
    pub fn routes(&self) -> Vec<RouteInfo> {
        let mut routes = lock(&self.shared.catalog).clone();
        routes.sort_by(|a, b| (&a.path, a.method, a.plugin).cmp(&(&b.path, b.method, b.plugin)));
        routes
    }

    /// Reports every request (method, route template, status, duration)
    /// to `recorder` ([`RecordHits`](crate::RecordHits)), for per-route
    /// metrics. The `registry` tool turns it on.
    pub fn measure(&self, recorder: Arc<dyn crate::RecordHits>) -> &Self {
        *lock(&self.shared.measure) = Some(recorder);
        self
    }

    /// The address the server listens on, once the http tool is set up
    /// (useful with `HTTP_PORT=0`).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.shared.local_addr.get().copied()
    }

    /// The OpenAPI document served at `/openapi.json`, once the boot is
    /// complete (a dry run makes it too); `None` before.
    ///
    /// ```
    /// assert!(microcore_http::Http::detached().openapi().is_none());
    /// ```
    pub fn openapi(&self) -> Option<utoipa::openapi::OpenApi> {
        self.shared.document.get().cloned()
    }
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
    /// Its row in the catalog `routes` lists.
    listed: usize,
}

#[microcore::tool(part_of = crate::Http)]
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

    /// Wraps this route alone in `layer` (route middleware: a timeout, a
    /// rate limit, a header).
    pub fn layer(self, layer: impl FnOnce(MethodRouter) -> MethodRouter) -> Self {
        if let Some(route) = lock(&self.http.shared.routes).get_mut(self.index) {
            let router = std::mem::take(&mut route.router);
            route.router = layer(router);
        }
        self
    }

    /// Keeps the route out of the OpenAPI document.
    pub fn hidden(self) -> Self {
        self.edit(|d| d.hidden = true)
    }

    /// Says who may call the route, for `cargo run -- routes`, when its
    /// extractors do not say it themselves (a raw [`Http::route`]).
    ///
    /// ```
    /// use axum::http::Method;
    ///
    /// let http = microcore_http::Http::detached();
    /// http.route(Method::GET, "/feed", axum::routing::get(|| async { "" }))
    ///     .requires("SYSTEM_ROUTES");
    /// assert_eq!(http.routes()[0].auth, Some("SYSTEM_ROUTES"));
    /// ```
    pub fn requires(self, who: &'static str) -> Self {
        if let Some(row) = lock(&self.http.shared.catalog).get_mut(self.listed) {
            row.auth = Some(who);
        }
        self.edit(|d| d.requires(who))
    }
}
