//! [`Registry`], what a plugin holds to read the app's own state: the
//! kernel's registry (tools, plugins, health) plus the call metrics the
//! tool records from the `calls` tool, shaped for the system routes.

use std::future::Future;
use std::sync::{Arc, OnceLock};

use microcore::ToolHandle;
use microcore::registry::AppRegistry as Kernel;
use microcore_calls::Calls;
use microcore_event_bus::EventBus;
use microcore_http::Http;
use microcore_scheduler::{JobInfo, Scheduler};
use tokio::sync::watch;

use crate::context::{self, Inputs, Route};
use crate::metrics::{CallMetrics, CallRecord, CallWatch};
use crate::sse::{self, Feed};
use crate::views::{self, EventsView, LintView, ReadinessView, Schemas, StatusView};

/// The `registry` tool's handle: the app looking at itself.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use std::time::Duration;
/// use microcore_registry::Registry;
///
/// let (kernel, calls) = (microcore::registry::AppRegistry::new(), microcore_calls::Calls::default());
/// let registry = Registry::new(kernel, microcore_http::Http::detached()).recording(&calls);
/// calls.record("state", "get", "users.Login", Duration::from_micros(40), true);
/// assert_eq!(registry.recent_calls()[0].plugin, "users.Login");
/// assert!(registry.prometheus().contains("microcore_tool_calls_total{tool=\"state\",method=\"get\"} 1"));
/// assert!(registry.status().await.tools.is_empty());
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Registry {
    kernel: Arc<Kernel>,
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    metrics: Arc<CallMetrics>,
    http: Http,
    /// Set once, by the tool's setup ([`Registry::with_bus`]).
    bus: OnceLock<EventBus>,
    /// Set once, by the tool's setup ([`Registry::with_scheduler`]).
    scheduler: OnceLock<Scheduler>,
    /// `true` once the app shuts down: live streams end.
    closing: watch::Sender<bool>,
}

impl ToolHandle for Registry {
    const NAME: &'static str = "registry";
}

#[microcore::tool(guide = "../AI.md")]
impl Registry {
    /// A handle on `kernel`; `http` lists the routes. It records no tool
    /// call until [`Registry::recording`] says where they are reported
    /// (with `REGISTRY_METRICS=false` it never does: tool calls skip
    /// timing and the call metrics stay empty; status, health, events,
    /// traces and lint answer as usual).
    pub fn new(kernel: Arc<Kernel>, http: Http) -> Self {
        let metrics = Arc::new(CallMetrics::default());
        Self {
            kernel,
            shared: Arc::new(Shared {
                metrics,
                http,
                bus: OnceLock::new(),
                scheduler: OnceLock::new(),
                closing: watch::channel(false).0,
            }),
        }
    }

    /// This handle, keeping what `calls` gets. The tool calls reported to
    /// `calls` go to its metrics; only the first recorder installed in
    /// `calls` gets them (see [`Calls::set_recorder`]).
    pub fn recording(self, calls: &Calls) -> Self {
        if !calls.set_recorder(self.shared.metrics.clone()) {
            tracing::warn!("the calls tool records into another registry handle already");
        }
        self
    }

    /// The kernel's registry: tools and plugins with their status.
    pub fn kernel(&self) -> &Arc<Kernel> {
        &self.kernel
    }

    /// The call metrics.
    pub fn metrics(&self) -> &Arc<CallMetrics> {
        &self.shared.metrics
    }

    /// The last tool calls (up to 1000), newest first (`/system/metrics`).
    pub fn recent_calls(&self) -> Vec<CallRecord> {
        self.shared.metrics.recent()
    }

    /// Every tool call from now on (`/system/metrics/stream`).
    pub fn watch_calls(&self) -> CallWatch {
        self.shared.metrics.watch()
    }

    /// A live SSE response that ends when the app shuts down.
    ///
    /// See [`sse::stream`]; ending it keeps an open dashboard from holding
    /// the shutdown.
    pub fn stream<F, R>(&self, first: Vec<String>, feed: F, render: R) -> axum::response::Response
    where
        F: Feed,
        R: FnMut(F::Item) -> Option<String> + Send + 'static,
    {
        sse::stream_until(first, feed, render, self.closed())
    }

    /// Completes when the app starts shutting down.
    pub fn closed(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut closing = self.shared.closing.subscribe();
        async move {
            let _ = closing.wait_for(|closing| *closing).await;
        }
    }

    /// Ends every live stream (the tool does it when the app drains).
    pub fn close_streams(&self) {
        self.shared.closing.send_replace(true);
    }

    /// Tools (their health asked now) and plugins (`/system/status`).
    pub async fn status(&self) -> StatusView {
        views::status(&self.kernel, self.jobs().await).await
    }

    /// Whether every critical tool is healthy now (`/system/ready`).
    pub async fn readiness(&self) -> ReadinessView {
        views::readiness(&self.kernel).await
    }

    /// Counters and histograms in the Prometheus text format (`/metrics`).
    pub fn prometheus(&self) -> String {
        crate::prometheus::render(
            &self.shared.metrics,
            &self.kernel.tools(),
            &self.kernel.plugins(),
        )
    }

    /// The same registry describing `bus`'s topology (events in
    /// `AI_CONTEXT.md`, contracts at `/system/lint`): what the tool's setup
    /// does with the bus its `bus` field depends on.
    pub(crate) fn with_bus(self, bus: EventBus) -> Self {
        let _ = self.shared.bus.set(bus);
        self
    }

    /// The bus the registry describes (none for a handle made by hand).
    pub fn bus(&self) -> Option<&EventBus> {
        self.shared.bus.get()
    }

    /// The same registry listing `scheduler`'s jobs (what the tool's setup
    /// does with its `scheduler` field).
    pub(crate) fn with_scheduler(self, scheduler: Scheduler) -> Self {
        let _ = self.shared.scheduler.set(scheduler);
        self
    }

    /// Every declared job with its last and next run (`/system/status`).
    ///
    /// As declared, without run figures, when the job table cannot be
    /// read; none for a handle made by hand.
    pub async fn jobs(&self) -> Vec<JobInfo> {
        let Some(scheduler) = self.shared.scheduler.get() else {
            return Vec::new();
        };
        match scheduler.jobs().await {
            Ok(jobs) => jobs,
            Err(e) => {
                tracing::warn!("cannot read the job table: {e}");
                scheduler.declared()
            }
        }
    }

    /// Every declared job, without run figures (no table read).
    pub fn declared_jobs(&self) -> Vec<JobInfo> {
        self.shared
            .scheduler
            .get()
            .map(Scheduler::declared)
            .unwrap_or_default()
    }

    /// Topics with subscribers, last emitters and counts (`/system/events`).
    pub fn events(&self, bus: &EventBus) -> EventsView {
        views::events(bus.topology())
    }

    /// Declared payload schemas per topic (`/system/events/schemas`).
    pub fn schemas(&self, bus: &EventBus) -> Schemas {
        views::schemas(&self.kernel, bus.topology())
    }

    /// What the running app can tell is wrong (`/system/lint`).
    pub fn lint(&self) -> LintView {
        let topics = self.bus().map(EventBus::topology);
        views::lint(&self.kernel, topics.as_deref())
    }

    /// Every route of a plugin that is not dead, sorted by path, then method.
    pub fn routes(&self) -> Vec<Route> {
        let dead: Vec<String> = self
            .kernel
            .plugins()
            .into_iter()
            .filter(|p| p.status != microcore::registry::PluginStatus::Ready)
            .map(|p| p.name)
            .collect();
        let mut routes = self.shared.http.routes();
        routes.retain(|r| !dead.iter().any(|d| d == r.plugin));
        routes
    }

    /// The text of `AI_CONTEXT.md` for the app as it is now.
    pub fn context(&self) -> String {
        let topics = self.bus().map(EventBus::topology).unwrap_or_default();
        let openapi = self
            .shared
            .http
            .openapi()
            .and_then(|doc| serde_json::to_value(doc).ok());
        context::render(Inputs {
            tools: &self.kernel.tools(),
            plugins: &self.kernel.plugins(),
            routes: &self.routes(),
            topics: &topics,
            apis: &microcore::api::blocks(),
            migrations: &microcore_db::MIGRATIONS[..],
            models: &microcore_commands::model::items(),
            jobs: &self.declared_jobs(),
            openapi: openapi.as_ref(),
        })
    }
}
