//! Request/reply on top of publish/subscribe.
//!
//! A request is an ordinary event whose `reply_to` names this bus's inbox
//! (a private topic, `_inbox.<uuid>`, subscribed on first use), with a TTL
//! equal to the caller's timeout so a late request is not even handled.
//! The replying subscription publishes its answer to that inbox with the
//! request's id in the `in_reply_to` header; the inbox hands it to the
//! waiting caller. A caller never waits past its timeout.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use microcore::{Error, ErrorKind, Result};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::oneshot;
use tracing::Instrument as _;

use crate::reply::{IN_REPLY_TO, INBOX_PREFIX, REPLY_ERROR, REPLY_ERROR_STATUS, kind_of};
use crate::shared::{BUS_EMITTER, Core};
use crate::worker::{Handler, Outcome};
use crate::{Envelope, EventBus, causal, trace};
use microcore::sync::lock;

#[microcore::tool]
impl EventBus {
    /// Publishes `request` to `topic` and waits up to `timeout` for the
    /// answer of a subscription made with [`EventBus::respond`].
    ///
    /// # Errors
    /// - [`ErrorKind::Unavailable`] naming the topic when no reply came in
    ///   time (nobody responds, or too slowly);
    /// - the responder's error, with its kind, when it failed;
    /// - [`ErrorKind::Internal`] when the reply does not decode into `Resp`.
    pub fn request<Req, Resp>(
        &self,
        topic: &str,
        request: &Req,
        timeout: Duration,
    ) -> impl Future<Output = Result<Resp>> + Send + '_
    where
        Req: Serialize + ?Sized,
        Resp: DeserializeOwned,
    {
        let topic = topic.to_string();
        let payload = serde_json::to_value(request).map_err(|e| {
            Error::internal(format!(
                "the request to '{topic}' cannot be serialized: {e}"
            ))
        });
        let recording = self.core.recording.is_some();
        let span = trace::publish_span(&topic, self.owner);
        let asking = async move {
            let payload = payload?;
            if recording {
                return Err(Error::new(
                    ErrorKind::Unavailable,
                    format!("request to '{topic}' on a recording bus: nothing replies there"),
                ));
            }
            let inbox = self.core.inbox().await?;
            let mut envelope = Envelope::new(topic.clone(), payload, self.owner);
            envelope.reply_to = Some(inbox.clone());
            envelope.ttl = Some(timeout);
            causal::stamp(&mut envelope);
            let id = envelope.id.to_string();
            let (tx, rx) = oneshot::channel();
            lock(&self.core.pending).insert(id.clone(), tx);
            let _forget = Pending {
                core: &self.core,
                id: &id,
            };
            self.core.send(envelope).await?;
            let reply = match tokio::time::timeout(timeout, rx).await {
                Ok(Ok(reply)) => reply,
                Ok(Err(_)) => {
                    return Err(Error::new(
                        ErrorKind::Unavailable,
                        format!("request to '{topic}' abandoned: the event bus is shutting down"),
                    ));
                }
                Err(_) => {
                    return Err(Error::new(
                        ErrorKind::Unavailable,
                        format!(
                            "request to '{topic}' timed out after {} ms: no reply (is a subscription made with `respond` running?)",
                            timeout.as_millis()
                        ),
                    ));
                }
            };
            if let Some(message) = reply.headers.get(REPLY_ERROR) {
                let status = reply
                    .headers
                    .get(REPLY_ERROR_STATUS)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(500);
                return Err(Error::new(kind_of(status), message.clone()));
            }
            Resp::deserialize(&reply.payload).map_err(|e| {
                Error::internal(format!(
                    "the reply to '{topic}' does not decode into `{}`: {e}",
                    std::any::type_name::<Resp>()
                ))
            })
        };
        // The span covers the wait: a slow responder shows in the trace.
        asking.instrument(span)
    }
}

/// Forgets a request's waiter however the caller's future ends.
struct Pending<'a> {
    core: &'a Core,
    id: &'a str,
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        lock(&self.core.pending).remove(self.id);
    }
}

impl Core {
    /// This bus's reply topic, subscribing to it on first use.
    async fn inbox(self: &Arc<Self>) -> Result<String> {
        self.inbox
            .get_or_try_init(|| async {
                let topic = format!("{INBOX_PREFIX}{}", uuid::Uuid::new_v4());
                let core = Arc::downgrade(self);
                let handler: Handler = Arc::new(move |(reply, _): (Arc<Envelope>, u32)| {
                    let waiter = core.upgrade().and_then(|core| {
                        let id = reply.headers.get(IN_REPLY_TO)?;
                        lock(&core.pending).remove(id)
                    });
                    if let Some(waiter) = waiter {
                        let _ = waiter.send(reply);
                    }
                    Box::pin(async { Outcome::Done(None) })
                });
                let bus = EventBus {
                    core: self.clone(),
                    owner: BUS_EMITTER,
                };
                bus.start(topic.clone(), topic.clone(), handler, false)
                    .await?;
                Ok(topic)
            })
            .await
            .cloned()
    }
}
