//! A server span per request, when the log tool exports traces
//! ([`microcore_trace::telemetry`]): `POST /users`, a child of the client's
//! `traceparent` if it sent one, and the parent of whatever the handler
//! does (its events carry it on through the bus).
//!
//! A hand-written tower layer with a named future, like the metrics one:
//! with tracing off a request pays one atomic load and a branch, no span,
//! no allocation, no box.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::{MatchedPath, Request};
use axum::response::Response;
use microcore_trace::telemetry::{self, TARGET};
use tower::{Layer, Service};
use tracing::Span;
use tracing::field::Empty;

/// Wraps every route in [`Trace`]. Part of the stack each route gets
/// (inside the router), where axum has already set the [`MatchedPath`]
/// that names the span.
#[derive(Clone, Debug, Default)]
pub(crate) struct TraceLayer {
    _private: (),
}

impl TraceLayer {
    /// The layer; it checks at each request whether traces are exported.
    pub(crate) fn new() -> Self {
        Self::default()
    }
}

impl<S> Layer<S> for TraceLayer {
    type Service = Trace<S>;

    fn layer(&self, inner: S) -> Trace<S> {
        Trace { inner }
    }
}

/// The route's service, run in a server span when traces are exported.
#[derive(Clone, Debug)]
pub(crate) struct Trace<S> {
    inner: S,
}

impl<S> Service<Request> for Trace<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Traced<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Traced<S::Future> {
        if !telemetry::enabled() {
            return Traced {
                inner: self.inner.call(request),
                span: None,
            };
        }
        let span = server_span(&request);
        // The handler's synchronous part (extractors) belongs to the span too.
        let inner = span.in_scope(|| self.inner.call(request));
        Traced {
            inner,
            span: Some(span),
        }
    }
}

/// `{METHOD} {route}` (or `{METHOD}` when no route matched: scanners'
/// paths must not make span names without bound), with the OpenTelemetry
/// HTTP attributes, its parent taken from the request's `traceparent`.
fn server_span(request: &Request) -> Span {
    let method = request.method().as_str();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str);
    let name = match route {
        Some(route) => format!("{method} {route}"),
        None => method.to_string(),
    };
    let span = tracing::info_span!(
        target: TARGET,
        "request",
        otel.name = name,
        otel.kind = "server",
        otel.status_code = Empty,
        http.request.method = method,
        http.route = route,
        url.path = request.uri().path(),
        url.scheme = "http",
        http.response.status_code = Empty,
    );
    let headers = request.headers();
    telemetry::extract_into(&span, &|name| {
        headers.get(name).and_then(|value| value.to_str().ok())
    });
    span
}

pin_project_lite::pin_project! {
    /// The route's future, polled inside the request's span (if any),
    /// which records the status when the response is ready.
    pub(crate) struct Traced<F> {
        #[pin]
        inner: F,
        span: Option<Span>,
    }
}

impl<F, E> Future for Traced<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Some(span) = this.span.as_ref() else {
            return this.inner.poll(cx);
        };
        let output = span.in_scope(|| this.inner.poll(cx));
        if let Poll::Ready(Ok(response)) = &output {
            let status = response.status();
            span.record("http.response.status_code", status.as_u16());
            if status.is_server_error() {
                span.record("otel.status_code", "ERROR");
            }
        }
        output
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::sync::Mutex;

    use axum::body::Body;
    use axum::http::StatusCode;
    use microcore_trace::telemetry::Propagate;
    use tower::ServiceExt as _;

    use super::*;

    /// The `traceparent`s [`Recorder`] was asked to continue.
    static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());

    #[derive(Debug)]
    struct Recorder;

    impl Propagate for Recorder {
        fn inject(&self, _: &Span, _: &mut dyn FnMut(&str, String)) {}

        fn extract_into<'a>(&self, _: &Span, get: &dyn Fn(&str) -> Option<&'a str>) {
            if let Some(parent) = get("traceparent") {
                SEEN.lock().unwrap().push(parent.to_string());
            }
        }
    }

    async fn teapot(_: Request) -> Result<Response, Infallible> {
        let mut response = Response::new(Body::from("short and stout"));
        *response.status_mut() = StatusCode::IM_A_TEAPOT;
        Ok(response)
    }

    fn request(traceparent: &str) -> Request {
        Request::builder()
            .uri("/brew")
            .header("traceparent", traceparent)
            .body(Body::empty())
            .unwrap()
    }

    /// One test, in this order: telemetry, once on, stays on in the process.
    #[tokio::test]
    async fn passes_requests_through_and_continues_the_client_trace_when_on() {
        let service = TraceLayer::new().layer(tower::service_fn(teapot));
        let parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

        let off = service.clone().oneshot(request(parent)).await.unwrap();
        assert_eq!(off.status(), StatusCode::IM_A_TEAPOT);
        assert!(SEEN.lock().unwrap().is_empty(), "nothing read when off");

        telemetry::install(Box::new(Recorder));
        let on = service.oneshot(request(parent)).await.unwrap();
        assert_eq!(on.status(), StatusCode::IM_A_TEAPOT);
        assert_eq!(*SEEN.lock().unwrap(), [parent]);
    }
}
