//! The innermost step of the transport stack: what a handler may count on
//! finding around it. The request's id is the causal root of whatever the
//! handler publishes (see `microcore_trace::cause`) and on every line it logs
//! (the access line of [`crate::access`] included), and the values tools
//! [`provide`](crate::Http::provide) (the auth tool's verifier, say) are in
//! the request's extensions.

use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::http::Extensions;
use microcore_trace::cause::Scoped;
use tower::{Layer, Service};

use crate::access::{Asked, Logged};
use crate::layers::REQUEST_ID;

/// The values every request carries, as one extension: one insertion per
/// request however many tools provide a value.
#[derive(Clone, Debug, Default)]
pub(crate) struct Provided(pub(crate) Arc<Extensions>);

/// The value of type `T` a tool provided to every request
/// ([`Http::provide`](crate::Http::provide)), or an extension of that type
/// set on this request (an `axum::Extension` layer on a hand-built router).
///
/// ```
/// use axum::http::Request;
///
/// let mut request = Request::new(());
/// request.extensions_mut().insert(7u32);
/// assert_eq!(microcore_http::provided::<u32>(request.extensions()), Some(&7));
/// assert_eq!(microcore_http::provided::<u64>(request.extensions()), None);
/// ```
pub fn provided<T: Send + Sync + 'static>(extensions: &Extensions) -> Option<&T> {
    extensions
        .get::<T>()
        .or_else(|| extensions.get::<Provided>()?.0.get::<T>())
}

/// Adds [`Scope`] around the routes.
#[derive(Clone, Debug, Default)]
pub(crate) struct ScopeLayer {
    pub(crate) provided: Provided,
}

impl<S> Layer<S> for ScopeLayer {
    type Service = Scope<S>;

    fn layer(&self, inner: S) -> Scope<S> {
        Scope {
            inner,
            provided: self.provided.clone(),
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Scope<S> {
    inner: S,
    provided: Provided,
}

impl<S, B, RB> Service<Request<B>> for Scope<S>
where
    S: Service<Request<B>, Response = axum::response::Response<RB>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Scoped<Logged<S::Future>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let id: Arc<str> = request
            .headers()
            .get(REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .into();
        if !self.provided.0.is_empty() {
            request.extensions_mut().insert(self.provided.clone());
        }
        let asked = Asked::of(&request);
        let inner = self.inner.call(request);
        microcore_trace::cause::request(id, Logged { inner, asked })
    }
}
