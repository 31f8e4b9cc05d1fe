//! Plugin methods as axum handlers.
//!
//! A route's handler is a plugin method, `async fn(self: Arc<Self>, ...)`,
//! whose other arguments are axum extractors (the last one may consume the
//! body). [`PluginFn`] pairs the method with the plugin instance and
//! implements axum's `Handler` for every arity up to eight, mirroring
//! axum's own impls, so extraction costs exactly what it costs in axum.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::response::{IntoResponse, Response};

use crate::openapi::{ApiArg, ApiReply, OperationDoc};
use crate::reply::IntoReply;

/// A plugin method that documents itself in OpenAPI: each argument's
/// [`ApiArg`] and the return type's [`ApiReply`].
pub trait Describe<T> {
    /// Fills the operation from the handler's types.
    fn describe(doc: &mut OperationDoc);
}

/// A plugin method bound to its plugin.
#[derive(Debug)]
pub struct PluginFn<P, F> {
    pub(crate) plugin: Arc<P>,
    pub(crate) f: F,
}

impl<P, F: Clone> Clone for PluginFn<P, F> {
    fn clone(&self) -> Self {
        Self {
            plugin: self.plugin.clone(),
            f: self.f.clone(),
        }
    }
}

impl<P, F, Fut, R> axum::handler::Handler<((),), ()> for PluginFn<P, F>
where
    P: Send + Sync + 'static,
    F: Fn(Arc<P>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = R> + Send,
    R: IntoReply,
{
    type Future = Pin<Box<dyn Future<Output = Response> + Send>>;

    fn call(self, _req: Request, _state: ()) -> Self::Future {
        Box::pin(async move { (self.f)(self.plugin).await.into_reply() })
    }
}

impl<P, F, Fut, R> Describe<((),)> for PluginFn<P, F>
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
        #[allow(non_snake_case)]
        impl<P, F, Fut, R, M, $($ty,)* $last> axum::handler::Handler<(M, $($ty,)* $last,), ()>
            for PluginFn<P, F>
        where
            P: Send + Sync + 'static,
            F: Fn(Arc<P>, $($ty,)* $last) -> Fut + Clone + Send + Sync + 'static,
            Fut: Future<Output = R> + Send,
            R: IntoReply,
            $($ty: FromRequestParts<()> + Send,)*
            $last: FromRequest<(), M> + Send,
        {
            type Future = Pin<Box<dyn Future<Output = Response> + Send>>;

            fn call(self, req: Request, state: ()) -> Self::Future {
                Box::pin(async move {
                    #[allow(unused_mut)]
                    let (mut parts, body) = req.into_parts();
                    $(
                        let $ty = match $ty::from_request_parts(&mut parts, &state).await {
                            Ok(value) => value,
                            Err(rejection) => return rejection.into_response(),
                        };
                    )*
                    let req = Request::from_parts(parts, body);
                    let $last = match $last::from_request(req, &state).await {
                        Ok(value) => value,
                        Err(rejection) => return rejection.into_response(),
                    };
                    (self.f)(self.plugin, $($ty,)* $last).await.into_reply()
                })
            }
        }

        impl<P, F, Fut, R, M, $($ty,)* $last> Describe<(M, $($ty,)* $last,)> for PluginFn<P, F>
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
