//! Server-Sent Events for the live system streams: one `data: <json>` line
//! per message, `Cache-Control: no-cache`, and a `:` heartbeat comment
//! every 15 s so proxies keep idle streams open.
//!
//! A stream reads a [`Feed`] (a broadcast receiver, a call watch) taken
//! when the request arrives, so nothing published after the request is
//! missed; it ends when the client goes away (axum drops it) or when the
//! app shuts down ([`Registry::stream`](crate::Registry::stream)): an open
//! stream would otherwise hold the graceful shutdown until its timeout.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::StreamExt as _;
use tokio::sync::broadcast;

use crate::CallWatch;
use crate::metrics::CallRecord;

/// How often an idle stream sends a heartbeat comment.
pub const HEARTBEAT: Duration = Duration::from_secs(15);

/// Something that yields messages one at a time until it ends.
pub trait Feed: Send + 'static {
    /// What it yields.
    type Item: Send;
    /// The next item; `None` when it is over.
    fn next(&mut self) -> impl Future<Output = Option<Self::Item>> + Send;
}

/// A watcher that fell behind skips what it missed and goes on.
impl<T: Clone + Send + 'static> Feed for broadcast::Receiver<T> {
    type Item = T;

    async fn next(&mut self) -> Option<T> {
        loop {
            match self.recv().await {
                Ok(item) => return Some(item),
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

impl Feed for CallWatch {
    type Item = CallRecord;

    async fn next(&mut self) -> Option<CallRecord> {
        self.recv().await
    }
}

/// An SSE response: the `first` messages, then one per item of `feed` that
/// `render` turns into a message (each a line of JSON, say).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let (sender, receiver) = tokio::sync::broadcast::channel::<u32>(8);
/// let response = microcore_registry::sse::stream(vec![], receiver, |n| Some(n.to_string()));
/// assert_eq!(response.headers()["content-type"], "text/event-stream");
/// assert_eq!(response.headers()["cache-control"], "no-cache");
/// # drop(sender);
/// # }
/// ```
pub fn stream<F, R>(first: Vec<String>, feed: F, render: R) -> Response
where
    F: Feed,
    R: FnMut(F::Item) -> Option<String> + Send + 'static,
{
    stream_until(first, feed, render, std::future::pending())
}

/// Like [`stream`], ending (cleanly, for the client) when `until` completes.
pub fn stream_until<F, R>(
    first: Vec<String>,
    feed: F,
    render: R,
    until: impl Future<Output = ()> + Send + 'static,
) -> Response
where
    F: Feed,
    R: FnMut(F::Item) -> Option<String> + Send + 'static,
{
    let state = (VecDeque::from(first), feed, render);
    let messages = futures::stream::unfold(state, |(mut first, mut feed, mut render)| async move {
        if let Some(message) = first.pop_front() {
            return Some((message, (first, feed, render)));
        }
        loop {
            let item = feed.next().await?;
            if let Some(message) = render(item) {
                return Some((message, (first, feed, render)));
            }
        }
    });
    let events = messages
        .take_until(until)
        .map(|message| Ok::<Event, Infallible>(Event::default().data(message)));
    Sse::new(events)
        .keep_alive(KeepAlive::new().interval(HEARTBEAT))
        .into_response()
}

/// `item` as one line of JSON (`None`, skipped, if it cannot be serialized).
pub fn json<T: serde::Serialize>(item: &T) -> Option<String> {
    serde_json::to_string(item).ok()
}
