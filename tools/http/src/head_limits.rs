//! Limits on a request's head that the app answers itself, with the
//! envelope: a request target longer than `HTTP_MAX_URI_BYTES` gets 414,
//! header fields weighing more than `HTTP_MAX_HEADER_BYTES` get 431.
//!
//! hyper refuses heads on its own too, but with an empty body and no
//! request id (docs/http.md lists those answers). The accept loop sizes
//! hyper's buffer well above these two limits ([`hyper_buffer`]), so a
//! head that is merely too long reaches this layer and is answered like
//! every other error; only a head far past them is hyper's to refuse.
//!
//! A hand-written layer with a named future, like the others of the stack:
//! a request within the limits pays two sums and a branch.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use tower::{Layer, Service};

use crate::reply::error_envelope;

/// hyper's smallest read buffer: it refuses a smaller maximum.
const HYPER_MIN_BUFFER: usize = 8192;

/// The read buffer to give hyper: four times what the two limits allow
/// together, so a head that breaks a limit by anything short of that is
/// still parsed and answered here with the envelope, while a connection
/// can never make hyper buffer an unbounded head.
///
/// ```ignore
/// assert_eq!(hyper_buffer(8192, 32768), 163_840);
/// ```
pub(crate) fn hyper_buffer(max_uri: usize, max_headers: usize) -> usize {
    max_uri
        .saturating_add(max_headers)
        .saturating_mul(4)
        .max(HYPER_MIN_BUFFER)
}

/// Wraps the routes in [`HeadLimits`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct HeadLimitsLayer {
    /// `HTTP_MAX_URI_BYTES`.
    pub(crate) max_uri: usize,
    /// `HTTP_MAX_HEADER_BYTES`.
    pub(crate) max_headers: usize,
}

impl<S> Layer<S> for HeadLimitsLayer {
    type Service = HeadLimits<S>;

    fn layer(&self, inner: S) -> HeadLimits<S> {
        HeadLimits {
            inner,
            limits: *self,
        }
    }
}

/// Answers 414 or 431 before the route runs when the head is too large.
#[derive(Clone, Debug)]
pub(crate) struct HeadLimits<S> {
    inner: S,
    limits: HeadLimitsLayer,
}

impl<S, B> Service<Request<B>> for HeadLimits<S>
where
    S: Service<Request<B>, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Limited<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Limited<S::Future> {
        let refusal = if target_len(request.uri()) > self.limits.max_uri {
            Some(error_envelope(
                StatusCode::URI_TOO_LONG,
                "Request URI too long",
                &[],
            ))
        } else if header_bytes(request.headers()) > self.limits.max_headers {
            Some(error_envelope(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "Request header fields too large",
                &[],
            ))
        } else {
            None
        };
        match refusal {
            Some(response) => Limited::Refused {
                response: Some(response),
            },
            None => Limited::Passed {
                inner: self.inner.call(request),
            },
        }
    }
}

/// The request target's length as the client sent it (origin form: path
/// and query; absolute form: with scheme and authority).
fn target_len(uri: &Uri) -> usize {
    let path = uri.path_and_query().map_or(0, |pq| pq.as_str().len());
    let authority = uri.authority().map_or(0, |a| a.as_str().len());
    let scheme = uri.scheme_str().map_or(0, |s| s.len() + "://".len());
    scheme + authority + path
}

/// The header fields' size on the wire: `name: value\r\n` each.
fn header_bytes(headers: &HeaderMap) -> usize {
    headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + ": \r\n".len())
        .sum()
}

pin_project_lite::pin_project! {
    /// The route's future, or the refusal answered in its place.
    #[project = LimitedProj]
    pub(crate) enum Limited<F> {
        Passed { #[pin] inner: F },
        Refused { response: Option<Response> },
    }
}

impl<F, E> Future for Limited<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            LimitedProj::Passed { inner } => inner.poll(cx),
            LimitedProj::Refused { response } => match response.take() {
                Some(response) => Poll::Ready(Ok(response)),
                // Polled again after completing: a contract breach of the
                // caller; answer something rather than panic.
                None => Poll::Ready(Ok(error_envelope(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Internal server error",
                    &[],
                ))),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use axum::body::Body;
    use axum::http::HeaderValue;
    use tower::ServiceExt as _;

    use super::*;

    async fn ok(_: Request) -> Result<Response, Infallible> {
        Ok(Response::new(Body::empty()))
    }

    async fn status(request: Request) -> StatusCode {
        let layer = HeadLimitsLayer {
            max_uri: 64,
            max_headers: 100,
        };
        let response = layer
            .layer(tower::service_fn(ok))
            .oneshot(request)
            .await
            .unwrap();
        response.status()
    }

    fn get(uri: &str) -> Request {
        Request::builder().uri(uri).body(Body::empty()).unwrap()
    }

    #[tokio::test]
    async fn refuses_a_long_target_and_heavy_headers_and_passes_the_rest() {
        assert_eq!(status(get("/ping")).await, StatusCode::OK);
        let at_limit = format!("/p?q={}", "a".repeat(64 - 5));
        assert_eq!(status(get(&at_limit)).await, StatusCode::OK);
        let past = format!("{at_limit}a");
        assert_eq!(status(get(&past)).await, StatusCode::URI_TOO_LONG);

        let mut heavy = get("/ping");
        heavy
            .headers_mut()
            .insert("x-big", HeaderValue::from_str(&"b".repeat(100)).unwrap());
        assert_eq!(
            status(heavy).await,
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
        );
    }

    #[test]
    fn hyper_gets_room_above_both_limits() {
        assert_eq!(hyper_buffer(8192, 32768), 163_840);
        assert_eq!(hyper_buffer(10, 10), HYPER_MIN_BUFFER);
        assert_eq!(hyper_buffer(usize::MAX, 1), usize::MAX);
    }
}
