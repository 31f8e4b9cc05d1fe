//! Plugin methods as axum handlers.
//!
//! A route's handler is a plugin method, `async fn(self: Arc<Self>, ...)`,
//! whose other arguments are axum extractors (the last one may consume the
//! body). [`PluginFn`] is the method bound to its plugin
//! ([`Bound`], the kernel's binder) and implements axum's `Handler` for
//! every arity up to eight, mirroring axum's own impls, so extraction costs
//! exactly what it costs in axum.
//!
//! The traits are shaped for the compiler's messages: [`RouteHandler`]
//! fixes the arguments from the method's signature alone, and each
//! argument says through [`ApiArg::Via`] how it is extracted, so a
//! mistake is reported at the argument or the reply type that is wrong,
//! with a note naming the derive to add, not as "`Handler` is not
//! implemented".

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter};
use microcore::method::Bound;

use crate::openapi::{ApiArg, ApiReply, OperationDoc};
use crate::reply::IntoReply;

/// A plugin method that can serve a route: `async fn name(self: Arc<Self>,
/// <extractors>) -> Result<T>`, with up to eight extractors. Nothing to
/// implement: every method of that shape is one.
///
/// ```
/// use microcore::prelude::*;
/// use microcore_http::{Path, RouteHandler};
///
/// struct GetUser;
/// impl GetUser {
///     async fn execute(self: Arc<Self>, Path(id): Path<i64>) -> Result<i64> { Ok(id) }
/// }
/// fn is_route<P, T>(_: impl RouteHandler<P, T>) {}
/// is_route::<GetUser, _>(GetUser::execute);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot serve a route of `{P}`",
    label = "not a route handler",
    note = "a route's handler is a method of the plugin: `async fn name(self: Arc<Self>, <up to 8 extractors>) -> Result<T>`",
    note = "extractors: `Path<T>`, `Query<T>`, `AuthUser`, `HeaderMap`, ... and, last, the body `Json<T>`"
)]
pub trait RouteHandler<P, T> {}

/// How an argument is extracted: from the request's head.
#[derive(Debug)]
pub enum ViaParts {}

/// How an argument is extracted: it consumes the body, so it comes last.
#[derive(Debug)]
pub enum ViaBody {}

/// An argument extracted `via` [`ViaParts`] or [`ViaBody`], picked by
/// [`ApiArg::Via`] so the compiler never has to guess.
pub trait Extract<Via>: Sized {
    /// Extracts the argument; the rejection is the error response.
    fn extract(request: Request) -> impl Future<Output = Result<Self, Response>> + Send;
}

impl<T: FromRequestParts<()>> Extract<ViaParts> for T {
    async fn extract(request: Request) -> Result<Self, Response> {
        let (mut parts, _) = request.into_parts();
        T::from_request_parts(&mut parts, &())
            .await
            .map_err(IntoResponse::into_response)
    }
}

impl<T: FromRequest<()>> Extract<ViaBody> for T {
    async fn extract(request: Request) -> Result<Self, Response> {
        T::from_request(request, &())
            .await
            .map_err(IntoResponse::into_response)
    }
}

/// A plugin method that axum can serve: implemented wherever axum's
/// `Handler` is, so a wrong argument is reported at that argument.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot serve a route",
    note = "a route's handler is a method of the plugin: `async fn name(self: Arc<Self>, <up to 8 extractors>) -> Result<T>`"
)]
pub trait Serve<T> {
    /// The method router serving this handler for `filter`.
    fn into_route(self, filter: MethodFilter) -> MethodRouter;
}

/// A plugin method that documents itself in OpenAPI: each argument's
/// [`ApiArg`] and the return type's [`ApiReply`].
pub trait Describe<T> {
    /// Fills the operation from the handler's types.
    fn describe(doc: &mut OperationDoc);
}

/// A plugin method bound to its plugin, as axum calls it.
#[derive(Debug)]
pub struct PluginFn<P, F>(pub(crate) Bound<P, F>);

impl<P, F: Clone> Clone for PluginFn<P, F> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<P, F, Fut> RouteHandler<P, ()> for F where F: Fn(Arc<P>) -> Fut {}

impl<P, F, Fut, R> axum::handler::Handler<(), ()> for PluginFn<P, F>
where
    P: Send + Sync + 'static,
    F: Fn(Arc<P>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = R> + Send,
    R: IntoReply,
{
    type Future = Pin<Box<dyn Future<Output = Response> + Send>>;

    fn call(self, _req: Request, _state: ()) -> Self::Future {
        Box::pin(async move {
            let (plugin, method) = self.0.parts();
            method(plugin).await.into_reply()
        })
    }
}

impl<P, F, Fut, R> Serve<()> for PluginFn<P, F>
where
    P: Send + Sync + 'static,
    F: Fn(Arc<P>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = R> + Send,
    R: IntoReply,
{
    fn into_route(self, filter: MethodFilter) -> MethodRouter {
        axum::routing::on(filter, self)
    }
}

impl<P, F, Fut, R> Describe<()> for PluginFn<P, F>
where
    F: Fn(Arc<P>) -> Fut,
    Fut: Future<Output = R>,
    R: ApiReply,
{
    fn describe(doc: &mut OperationDoc) {
        R::describe(doc);
    }
}

macro_rules! impl_plugin_handler {
    ([$($ty:ident),*], $last:ident) => {
        impl<P, F, Fut, $($ty,)* $last> RouteHandler<P, ($($ty,)* $last,)> for F
        where
            F: Fn(Arc<P>, $($ty,)* $last) -> Fut,
        {
        }

        #[allow(non_snake_case)]
        impl<P, F, Fut, R, V, $($ty,)* $last> axum::handler::Handler<($($ty,)* $last,), ()>
            for PluginFn<P, F>
        where
            P: Send + Sync + 'static,
            F: Fn(Arc<P>, $($ty,)* $last) -> Fut + Clone + Send + Sync + 'static,
            Fut: Future<Output = R> + Send,
            R: IntoReply,
            $($ty: FromRequestParts<()> + Send,)*
            $last: ApiArg<Via = V> + Extract<V> + Send,
        {
            type Future = Pin<Box<dyn Future<Output = Response> + Send>>;

            fn call(self, req: Request, _state: ()) -> Self::Future {
                Box::pin(async move {
                    #[allow(unused_mut)]
                    let (mut parts, body) = req.into_parts();
                    $(
                        let $ty = match $ty::from_request_parts(&mut parts, &()).await {
                            Ok(value) => value,
                            Err(rejection) => return rejection.into_response(),
                        };
                    )*
                    let req = Request::from_parts(parts, body);
                    let $last = match $last::extract(req).await {
                        Ok(value) => value,
                        Err(response) => return response,
                    };
                    let (plugin, method) = self.0.parts();
                    method(plugin, $($ty,)* $last).await.into_reply()
                })
            }
        }

        impl<P, F, Fut, R, V, $($ty,)* $last> Serve<($($ty,)* $last,)> for PluginFn<P, F>
        where
            P: Send + Sync + 'static,
            F: Fn(Arc<P>, $($ty,)* $last) -> Fut + Clone + Send + Sync + 'static,
            Fut: Future<Output = R> + Send,
            R: IntoReply,
            $($ty: FromRequestParts<()> + Send + 'static,)*
            $last: ApiArg<Via = V> + Extract<V> + Send + 'static,
        {
            fn into_route(self, filter: MethodFilter) -> MethodRouter {
                axum::routing::on(filter, self)
            }
        }

        impl<P, F, Fut, R, $($ty,)* $last> Describe<($($ty,)* $last,)> for PluginFn<P, F>
        where
            F: Fn(Arc<P>, $($ty,)* $last) -> Fut,
            Fut: Future<Output = R>,
            R: ApiReply,
            $($ty: ApiArg,)*
            $last: ApiArg,
        {
            fn describe(doc: &mut OperationDoc) {
                $($ty::describe(doc);)*
                $last::describe(doc);
                R::describe(doc);
            }
        }
    };
}

impl_plugin_handler!([], T1);
impl_plugin_handler!([T1], T2);
impl_plugin_handler!([T1, T2], T3);
impl_plugin_handler!([T1, T2, T3], T4);
impl_plugin_handler!([T1, T2, T3, T4], T5);
impl_plugin_handler!([T1, T2, T3, T4, T5], T6);
impl_plugin_handler!([T1, T2, T3, T4, T5, T6], T7);
impl_plugin_handler!([T1, T2, T3, T4, T5, T6, T7], T8);
