//! One `debug` line per request served (`microcore_http::access`): the
//! method, the route template, the status and the time taken, logged inside
//! the request's scope so it carries the request id like every other line
//! of the request. Off at the default level: a request then pays one
//! callsite check, no clock read, no allocation.
//!
//! `RUST_LOG=info,microcore_http::access=debug` turns it on.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::response::Response;

/// The target of the access lines.
pub(crate) const TARGET: &str = "microcore_http::access";

/// What the line will say about the request, taken before the handler
/// consumes it; `None` when access lines are off.
#[derive(Debug)]
pub(crate) struct Asked {
    method: Method,
    route: Option<MatchedPath>,
    started: Instant,
}

impl Asked {
    pub(crate) fn of<B>(request: &Request<B>) -> Option<Self> {
        tracing::enabled!(target: TARGET, tracing::Level::DEBUG).then(|| Self {
            method: request.method().clone(),
            route: request.extensions().get::<MatchedPath>().cloned(),
            started: Instant::now(),
        })
    }
}

pin_project_lite::pin_project! {
    /// The route's future, writing the access line when it answers.
    pub(crate) struct Logged<F> {
        #[pin]
        pub(crate) inner: F,
        pub(crate) asked: Option<Asked>,
    }
}

impl<F, RB, E> Future for Logged<F>
where
    F: Future<Output = Result<Response<RB>, E>>,
{
    type Output = Result<Response<RB>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let output = std::task::ready!(this.inner.poll(cx));
        if let (Ok(response), Some(asked)) = (&output, this.asked.take()) {
            tracing::debug!(
                target: TARGET,
                method = %asked.method,
                route = asked.route.as_ref().map_or("unmatched", |r| r.as_str()),
                status = response.status().as_u16(),
                ms = asked.started.elapsed().as_secs_f64() * 1e3,
                "request served"
            );
        }
        Poll::Ready(output)
    }
}
