//! Per-route request metrics (`Http::measure`): each request reported to
//! the registry by its route template, method, status and duration.
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
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::response::Response;
use microcore::registry::{AppRegistry, Hit};
use tower::{Layer, Service};

/// The route label of a request no route matched (404s, scanners): one
/// label for all of them, so odd paths cannot grow the metrics without bound.
const UNMATCHED: &str = "unmatched";

/// Wraps every route in [`Measure`]. Part of the stack each route gets
/// (inside the router), where axum has already set the [`MatchedPath`].
/// `None`: requests are not counted (`REGISTRY_METRICS=false`, or no
/// registry tool).
#[derive(Clone)]
pub(crate) struct MeasureLayer {
    pub(crate) registry: Option<Arc<AppRegistry>>,
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
    registry: Option<Arc<AppRegistry>>,
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
        let registry = self.registry.as_ref().filter(|r| r.is_recording());
        let in_flight = registry.map(|registry| InFlight {
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
    registry: Arc<AppRegistry>,
    method: Method,
    route: Option<MatchedPath>,
    started: Instant,
    status: Option<u16>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let unfinished = if std::thread::panicking() { 500 } else { 499 };
        self.registry.record_hit(Hit {
            method: self.method.as_str(),
            route: self.route.as_ref().map_or(UNMATCHED, |r| r.as_str()),
            status: self.status.unwrap_or(unfinished),
            duration: self.started.elapsed(),
        });
    }
}
