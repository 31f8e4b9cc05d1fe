//! Panic recovery: a handler that panics answers a 500 envelope, the cause
//! goes to the log only, and the process (and the connection) lives on.
//!
//! Hand-written rather than tower-http's `CatchPanicLayer`, which boxes
//! every response's body again (an allocation per request) to give its
//! own answers one body type; here every answer is already an axum `Body`.

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::Response;
use tower::{Layer, Service};

use crate::reply::error_envelope;

/// Adds [`CatchPanic`] around the routes.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct CatchPanicLayer;

impl<S> Layer<S> for CatchPanicLayer {
    type Service = CatchPanic<S>;

    fn layer(&self, inner: S) -> CatchPanic<S> {
        CatchPanic { inner }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct CatchPanic<S> {
    inner: S,
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
        match catch_unwind(AssertUnwindSafe(|| self.inner.call(request))) {
            Ok(future) => Caught::Running { future },
            Err(panic) => Caught::Panicked { panic: Some(panic) },
        }
    }
}

pin_project_lite::pin_project! {
    /// The route's future, its panics turned into a 500 answer.
    #[project = CaughtProjection]
    pub(crate) enum Caught<F> {
        Running { #[pin] future: F },
        Panicked { panic: Option<Box<dyn Any + Send>> },
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
            CaughtProjection::Running { future } => {
                match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
                    Ok(poll) => poll,
                    Err(panic) => Poll::Ready(Ok(panic_response(panic.as_ref()))),
                }
            }
            CaughtProjection::Panicked { panic } => {
                let cause = panic.take().unwrap_or_else(|| Box::new(()));
                Poll::Ready(Ok(panic_response(cause.as_ref())))
            }
        }
    }
}

fn panic_response(panic: &(dyn Any + Send)) -> Response {
    let message = microcore::panic::message(panic);
    tracing::error!("handler panicked: {message}");
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
            .layer(CatchPanicLayer);
        assert_eq!(status_of(router.clone(), "/boom").await, 500);
        assert_eq!(status_of(router, "/ok").await, 200);
    }
}
