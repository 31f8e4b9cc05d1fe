//! The causal id of the work in progress: the request or event being handled.
//!
//! The http tool runs each request inside [`scope`] with its request id; the
//! event bus runs each handler inside [`scope`] with the event's id and reads
//! [`current`] when publishing, so every event knows what caused it without
//! a line of code in the plugin. A task-local, so concurrent requests never
//! see each other's ids. The log tool reads [`request_id`] to put the
//! request's id on every line logged while it is served.

use std::future::Future;
use std::sync::Arc;

tokio::task_local! {
    static CAUSE: Cause;
}

/// What is being handled: a request or an event, by id. Opaque: read it
/// with [`current`] and [`request_id`].
#[derive(Clone, Debug)]
pub struct Cause {
    id: Arc<str>,
    request: bool,
}

/// Runs `work` with `id` as the current cause.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use microcore_trace::cause;
/// let seen = cause::scope("req-1".into(), async { cause::current() }).await;
/// assert_eq!(seen.as_deref(), Some("req-1"));
/// assert_eq!(cause::current(), None);
/// # }
/// ```
pub async fn scope<F: Future>(id: Arc<str>, work: F) -> F::Output {
    CAUSE.scope(Cause { id, request: false }, work).await
}

/// `work` run with `id` as the current cause, as a future of a type that
/// can be named (a tower service's `Future`), unlike [`scope`]'s.
pub type Scoped<F> = tokio::task::futures::TaskLocalFuture<Cause, F>;

/// Like [`scope`], returning a [`Scoped`] future.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use microcore_trace::cause;
/// let work: cause::Scoped<_> = cause::scoped("req-2".into(), async { cause::current() });
/// assert_eq!(work.await.as_deref(), Some("req-2"));
/// # }
/// ```
pub fn scoped<F: Future>(id: Arc<str>, work: F) -> Scoped<F> {
    CAUSE.scope(Cause { id, request: false }, work)
}

/// `work` serving the request `id`: its cause, and its [`request_id`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use microcore_trace::cause;
/// let seen = cause::request("req-3".into(), async { cause::request_id() }).await;
/// assert_eq!(seen.as_deref(), Some("req-3"));
/// let event = cause::scope("evt-1".into(), async { cause::request_id() }).await;
/// assert_eq!(event, None, "an event handler serves no request");
/// # }
/// ```
pub fn request<F: Future>(id: Arc<str>, work: F) -> Scoped<F> {
    CAUSE.scope(Cause { id, request: true }, work)
}

/// The id of the request or event being handled, if any.
pub fn current() -> Option<Arc<str>> {
    CAUSE.try_with(|cause| cause.id.clone()).ok()
}

/// The id of the request being served, if the work in progress is one
/// (not an event handler, a job or a boot step).
pub fn request_id() -> Option<Arc<str>> {
    CAUSE
        .try_with(|cause| cause.request.then(|| cause.id.clone()))
        .ok()
        .flatten()
}
