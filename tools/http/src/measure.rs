//! Per-route request metrics (`Http::measure`): each request reported to
//! the registry by its route template, method, status and duration.
//!
//! A hand-written tower layer rather than `middleware::from_fn`: that one
//! clones the inner service, boxes a future and builds a `Next` on every
//! request, several times what recording the hit costs (issue 7 wants the
//! metrics under 3 % of a `/ping`).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::response::Response;
use microcore::registry::{Hit, Registry};
use tower::{Layer, Service};

/// The route label of a request no route matched (404s, scanners): one
/// label for all of them, so odd paths cannot grow the metrics without bound.
const UNMATCHED: &str = "unmatched";

/// Wraps every route in [`Measured`]. Inside the router, where axum has
/// already set the [`MatchedPath`].
pub(crate) fn measured(router: Router, registry: Arc<Registry>) -> Router {
    router.layer(MeasureLayer { registry })
}

#[derive(Clone)]
struct MeasureLayer {
    registry: Arc<Registry>,
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
struct Measure<S> {
    inner: S,
    registry: Arc<Registry>,
}

impl<S> Service<Request> for Measure<S>
where
    S: Service<Request, Response = Response>,
    S::Future: Unpin,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Measured<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Measured<S::Future> {
        let in_flight = self.registry.is_recording().then(|| InFlight {
            registry: self.registry.clone(),
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

/// The route's future, reporting the request when it completes or is
/// dropped. `Unpin` like axum's route futures, so no pin projection.
struct Measured<F> {
    inner: F,
    in_flight: Option<InFlight>,
}

impl<F, E> Future for Measured<F>
where
    F: Future<Output = Result<Response, E>> + Unpin,
{
    type Output = Result<Response, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let output = std::task::ready!(Pin::new(&mut self.inner).poll(cx));
        if let (Ok(response), Some(in_flight)) = (&output, self.in_flight.as_mut()) {
            in_flight.status = Some(response.status().as_u16());
        }
        // Reported now, not when the server drops the future later.
        self.in_flight = None;
        Poll::Ready(output)
    }
}

/// Records the request when dropped: on completion, but also when the
/// handler panics (500) or the request is abandoned (499, as nginx says).
struct InFlight {
    registry: Arc<Registry>,
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
