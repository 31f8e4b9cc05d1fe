//! Panic recovery: a handler that panics answers a 500 envelope, the cause
//! goes to the log only (with the plugin, the route and the request id),
//! and the process (and the connection) lives on.
//!
//! Hand-written rather than tower-http's `CatchPanicLayer`, which boxes
//! every response's body again (an allocation per request) to give its
//! own answers one body type; here every answer is already an axum `Body`.

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::Response;
use tower::{Layer, Service};

use crate::handle::RouteEntry;
use crate::layers::REQUEST_ID;
use crate::reply::error_envelope;

/// Which plugin serves each method and route template, for the log line
/// of a panic (looked up only then).
#[derive(Debug, Default)]
pub(crate) struct RouteOwners(Vec<(&'static str, String, &'static str)>);

impl RouteOwners {
    pub(crate) fn of(routes: &[RouteEntry]) -> Self {
        Self(
            routes
                .iter()
                .map(|r| (r.method_name, r.path.clone(), r.owner))
                .collect(),
        )
    }

    fn owner(&self, method: &Method, route: &str) -> &'static str {
        self.0
            .iter()
            .find(|(m, path, _)| *m == method.as_str() && path == route)
            .map_or("-", |(_, _, owner)| owner)
    }
}

/// Adds [`CatchPanic`] around the routes.
#[derive(Clone, Debug, Default)]
pub(crate) struct CatchPanicLayer {
    pub(crate) owners: Arc<RouteOwners>,
}

impl<S> Layer<S> for CatchPanicLayer {
    type Service = CatchPanic<S>;

    fn layer(&self, inner: S) -> CatchPanic<S> {
        CatchPanic {
            inner,
            owners: self.owners.clone(),
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct CatchPanic<S> {
    inner: S,
    owners: Arc<RouteOwners>,
}

/// The request a panic happened in: what its log line names. Kept from
/// the request (reference counts, no copy), as the handler takes it.
#[derive(Debug)]
pub(crate) struct Asked {
    owners: Arc<RouteOwners>,
    method: Method,
    route: Option<MatchedPath>,
    request_id: Option<HeaderValue>,
}

impl Asked {
    fn of<B>(request: &Request<B>, owners: &Arc<RouteOwners>) -> Self {
        Self {
            owners: owners.clone(),
            method: request.method().clone(),
            route: request.extensions().get::<MatchedPath>().cloned(),
            request_id: request.headers().get(REQUEST_ID).cloned(),
        }
    }
}

impl<S, B, E> Service<Request<B>> for CatchPanic<S>
where
    S: Service<Request<B>, Response = Response, Error = E>,
{
    type Response = Response;
    type Error = E;
    type Future = Caught<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), E>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Caught<S::Future> {
        let asked = Asked::of(&request, &self.owners);
        match catch_unwind(AssertUnwindSafe(|| self.inner.call(request))) {
            Ok(future) => Caught::Running { future, asked },
            Err(panic) => Caught::Panicked {
                panic: Some(panic),
                asked,
            },
        }
    }
}

pin_project_lite::pin_project! {
    /// The route's future, its panics turned into a 500 answer.
    #[project = CaughtProjection]
    pub(crate) enum Caught<F> {
        Running { #[pin] future: F, asked: Asked },
        Panicked { panic: Option<Box<dyn Any + Send>>, asked: Asked },
    }
}

impl<F, E> Future for Caught<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            // Never polled again once it panicked: the answer is Ready.
            CaughtProjection::Running { future, asked } => {
                match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
                    Ok(poll) => poll,
                    Err(panic) => Poll::Ready(Ok(panic_response(panic.as_ref(), asked))),
                }
            }
            CaughtProjection::Panicked { panic, asked } => {
                let cause = panic.take().unwrap_or_else(|| Box::new(()));
                Poll::Ready(Ok(panic_response(cause.as_ref(), asked)))
            }
        }
    }
}

fn panic_response(panic: &(dyn Any + Send), asked: &Asked) -> Response {
    let message = microcore::panic::message(panic);
    let route = asked.route.as_ref().map_or("-", |r| r.as_str());
    let plugin = asked.owners.owner(&asked.method, route);
    let request_id = asked
        .request_id
        .as_ref()
        .and_then(|id| id.to_str().ok())
        .unwrap_or("-");
    tracing::error!(
        plugin,
        route = format_args!("{} {route}", asked.method),
        request_id,
        "handler panicked: {message}"
    );
    error_envelope(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Internal server error",
        &[],
    )
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    async fn status_of(router: Router, path: &str) -> StatusCode {
        let request = Request::get(path).body(Body::empty()).unwrap();
        router.oneshot(request).await.unwrap().status()
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_500_and_the_next_request_is_served() {
        async fn boom() -> &'static str {
            panic!("boom")
        }
        let router = Router::new()
            .route("/boom", get(boom))
            .route("/ok", get(|| async { "ok" }))
            .layer(CatchPanicLayer::default());
        assert_eq!(status_of(router.clone(), "/boom").await, 500);
        assert_eq!(status_of(router, "/ok").await, 200);
    }
}
