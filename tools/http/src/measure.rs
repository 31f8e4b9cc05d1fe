//! Per-route request metrics (`Http::measure`): each request reported to
//! whoever records hits (the registry tool) by its route template, method,
//! status and duration. The http tool owns the notion of a hit; the kernel
//! knows nothing of requests.
//!
//! A hand-written tower layer in the one transport stack, rather than
//! `middleware::from_fn` or a `Router::layer` of its own: those box the
//! route's service and its future again on every request, several times
//! what recording the hit costs (issue 7 wants the metrics under 3 % of a
//! `/ping`).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::response::Response;
use tower::{Layer, Service};

/// One HTTP request, by route template (`/users/{user_id}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit<'a> {
    /// `GET`, `POST`, ...
    pub method: &'a str,
    /// The route's template, not the concrete path.
    pub route: &'a str,
    /// The status answered.
    pub status: u16,
    /// Until the response head was ready.
    pub duration: Duration,
}

/// Keeps the requests [`Http::measure`](crate::Http::measure) reports;
/// the `registry` tool implements it. Called on every request: keep it cheap.
///
/// ```
/// use microcore_http::{Hit, RecordHits};
///
/// /// Counts requests, and nothing else.
/// #[derive(Debug, Default)]
/// struct Count(std::sync::atomic::AtomicU64);
///
/// impl RecordHits for Count {
///     fn hit(&self, _: Hit<'_>) {
///         self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
///     }
/// }
/// microcore_http::Http::detached().measure(std::sync::Arc::new(Count::default()));
/// ```
pub trait RecordHits: Send + Sync + std::fmt::Debug {
    /// A request was answered.
    fn hit(&self, hit: Hit<'_>);
}

/// Where hits go.
pub(crate) type Recorder = Arc<dyn RecordHits>;

/// The route label of a request no route matched (404s, scanners): one
/// label for all of them, so odd paths cannot grow the metrics without bound.
const UNMATCHED: &str = "unmatched";

/// Wraps every route in [`Measure`]. Part of the stack each route gets
/// (inside the router), where axum has already set the [`MatchedPath`].
/// `None`: requests are not counted (`REGISTRY_METRICS=false`, or no
/// registry tool).
#[derive(Clone)]
pub(crate) struct MeasureLayer {
    pub(crate) registry: Option<Recorder>,
}

impl<S> Layer<S> for MeasureLayer {
    type Service = Measure<S>;

    fn layer(&self, inner: S) -> Measure<S> {
        Measure {
            inner,
            registry: self.registry.clone(),
        }
    }
}

#[derive(Clone)]
pub(crate) struct Measure<S> {
    inner: S,
    registry: Option<Recorder>,
}

impl<S, B, RB> Service<Request<B>> for Measure<S>
where
    S: Service<Request<B>, Response = Response<RB>>,
{
    type Response = Response<RB>;
    type Error = S::Error;
    type Future = Measured<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Measured<S::Future> {
        let in_flight = self.registry.as_ref().map(|registry| InFlight {
            registry: registry.clone(),
            method: request.method().clone(),
            route: request.extensions().get::<MatchedPath>().cloned(),
            started: Instant::now(),
            status: None,
        });
        Measured {
            inner: self.inner.call(request),
            in_flight,
        }
    }
}

pin_project_lite::pin_project! {
    /// The route's future, reporting the request when it completes or is
    /// dropped.
    pub(crate) struct Measured<F> {
        #[pin]
        inner: F,
        in_flight: Option<InFlight>,
    }
}

impl<F, RB, E> Future for Measured<F>
where
    F: Future<Output = Result<Response<RB>, E>>,
{
    type Output = Result<Response<RB>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let output = std::task::ready!(this.inner.poll(cx));
        if let (Ok(response), Some(in_flight)) = (&output, this.in_flight.as_mut()) {
            in_flight.status = Some(response.status().as_u16());
        }
        // Reported now, not when the server drops the future later.
        *this.in_flight = None;
        Poll::Ready(output)
    }
}

/// Records the request when dropped: on completion, but also when the
/// handler panics (500) or the request is abandoned (499, as nginx says).
struct InFlight {
    registry: Recorder,
    method: Method,
    route: Option<MatchedPath>,
    started: Instant,
    status: Option<u16>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let unfinished = if std::thread::panicking() { 500 } else { 499 };
        self.registry.hit(Hit {
            method: self.method.as_str(),
            route: self.route.as_ref().map_or(UNMATCHED, |r| r.as_str()),
            status: self.status.unwrap_or(unfinished),
            duration: self.started.elapsed(),
        });
    }
}
