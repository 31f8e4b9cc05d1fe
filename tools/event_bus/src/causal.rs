//! Causal ids without a line of plugin code.
//!
//! The [`microcore_trace::cause`] task-local carries the id of the
//! request or event being handled; that becomes a new event's `parent_id`.
//! The root of the chain (`correlation_id`) needs a second value: while a
//! handler runs, the bus keeps the triggering event's correlation here. In
//! a request scope there is none, so the request id, being the root, is it.

use std::future::Future;
use std::sync::Arc;

use crate::Envelope;

tokio::task_local! {
    static CORRELATION: Arc<str>;
}

/// Fills `parent_id` and `correlation_id` of a fresh envelope from the
/// work in progress, and its trace context when traces are exported.
pub(crate) fn stamp(envelope: &mut Envelope) {
    crate::trace::inject(envelope);
    let parent = microcore_trace::cause::current();
    let correlation = CORRELATION.try_with(Arc::clone).ok();
    envelope.correlation_id = match (&correlation, &parent) {
        (Some(root), _) => root.to_string(),
        (None, Some(request)) => request.to_string(),
        (None, None) => envelope.id.to_string(),
    };
    envelope.parent_id = parent.map(|p| p.to_string());
}

/// Runs a handler of `envelope` so that what it publishes descends from it.
pub(crate) async fn within<F: Future>(envelope: &Envelope, work: F) -> F::Output {
    let id: Arc<str> = envelope.id.as_str().into();
    let root: Arc<str> = envelope.correlation_id.as_str().into();
    microcore_trace::cause::scope(id, CORRELATION.scope(root, work)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn chains_request_then_event_then_event() {
        let mut first = Envelope::new("a", serde_json::Value::Null, "app");
        microcore_trace::cause::scope("R".into(), async { stamp(&mut first) }).await;
        assert_eq!(first.parent_id.as_deref(), Some("R"));
        assert_eq!(first.correlation_id, "R");

        let mut second = Envelope::new("b", serde_json::Value::Null, "app");
        within(&first, async { stamp(&mut second) }).await;
        assert_eq!(second.parent_id.as_deref(), Some(first.id.as_str()));
        assert_eq!(second.correlation_id, "R");

        let mut root = Envelope::new("c", serde_json::Value::Null, "app");
        stamp(&mut root);
        assert_eq!(root.parent_id, None);
        assert_eq!(root.correlation_id, root.id.as_str());
    }
}
