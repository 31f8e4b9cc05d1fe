//! The delivery loop of one subscription: the bus's policy, driver-agnostic.
//!
//! For each delivery: drop it if its TTL ran out; give it up if it was
//! delivered far more often than the retry policy allows (its handler
//! kept killing its process); run the handler inside
//! the event's causal scope, catching panics; then acknowledge it, put it
//! back with exponential backoff, or bury it as a dead letter and announce
//! `event.delivery.failed`. Deliveries of one subscription are handled one
//! at a time, which is what keeps them in order.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures::FutureExt;
use microcore::{Error, ErrorKind, Result};
use tokio::sync::watch;
use tracing::Instrument as _;

use crate::driver::{Consumer, Delivery};
use crate::shared::{BUS_EMITTER, Core};
use crate::trace::{self, Consumer as Traced};
use crate::{Envelope, causal, reply};

/// What running a handler on one delivery came to.
pub(crate) enum Outcome {
    /// Done; a replying handler's answer, as JSON.
    Done(Option<serde_json::Value>),
    /// The payload does not fit the handler's type: retrying cannot help.
    Undecodable(String),
    /// The handler returned an error (retried, then a dead letter).
    Failed(Error),
}

/// A handler with its plugin and payload type erased.
pub(crate) type Handler = microcore::method::Erased<(Arc<Envelope>, u32), Outcome>;

/// The topic the bus announces given-up deliveries on.
pub const DELIVERY_FAILED: &str = "event.delivery.failed";

/// How long to wait before asking a failing backend again.
const BACKEND_PAUSE: Duration = Duration::from_millis(500);

pub(crate) struct Worker {
    pub(crate) core: Arc<Core>,
    pub(crate) consumer: Box<dyn Consumer>,
    pub(crate) handler: Handler,
    pub(crate) topic: String,
    pub(crate) group: String,
    pub(crate) owner: &'static str,
    /// A replying subscription (request/reply): answers go to `reply_to`.
    pub(crate) replies: bool,
}

impl Worker {
    /// Runs until `stop` turns true or the driver closes; the handler in
    /// flight always finishes first.
    pub(crate) async fn run(self, mut stop: watch::Receiver<bool>) {
        // While the backend is unreachable the fetch fails every pause:
        // one warning when it starts, one line when it ends, not a flood.
        let mut failing_since: Option<tokio::time::Instant> = None;
        loop {
            let next = tokio::select! {
                biased;
                _ = stop.wait_for(|s| *s) => break,
                next = self.consumer.next() => next,
            };
            match next {
                Ok(Some(delivery)) => {
                    if let Some(since) = failing_since.take() {
                        tracing::info!(
                            topic = %self.topic, group = %self.group,
                            "receiving events again after {} s without the {} backend",
                            since.elapsed().as_secs(), self.core.driver.backend()
                        );
                    }
                    self.process(delivery).await
                }
                Ok(None) => break,
                Err(e) => {
                    if failing_since.is_none() {
                        failing_since = Some(tokio::time::Instant::now());
                        tracing::warn!(
                            topic = %self.topic, group = %self.group,
                            "cannot fetch events from the {} backend, retrying every {} ms until it answers: {}",
                            self.core.driver.backend(), BACKEND_PAUSE.as_millis(), e.chain()
                        );
                    } else {
                        tracing::debug!(topic = %self.topic, group = %self.group, "still cannot fetch events: {}", e.chain());
                    }
                    tokio::select! {
                        _ = stop.wait_for(|s| *s) => break,
                        _ = tokio::time::sleep(BACKEND_PAUSE) => {}
                    }
                }
            }
        }
    }

    /// Handles one delivery in its span (when traces are exported), so
    /// what the handler publishes, and the dead letter's announcement,
    /// continue its trace.
    async fn process(&self, delivery: Delivery) {
        let span = trace::handle_span(
            &delivery.envelope,
            Traced {
                group: &self.group,
                plugin: self.owner,
                backend: self.core.driver.backend(),
                attempt: delivery.attempt,
            },
        );
        self.deliver(delivery).instrument(span).await
    }

    async fn deliver(&self, delivery: Delivery) {
        let envelope = delivery.envelope.clone();
        if envelope.is_expired(Utc::now()) {
            tracing::debug!(topic = %self.topic, group = %self.group, id = %envelope.id, "expired: not delivered");
            self.settle(self.consumer.ack(&delivery).await);
            return;
        }
        let max = self.core.options.max_attempts;
        if delivery.attempt > unsettled_limit(max) {
            let why = format!(
                "delivered {} times with no outcome (its consumer stopped while handling it each time; EVENT_BUS_MAX_ATTEMPTS is {max})",
                delivery.attempt
            );
            self.bury(&delivery, &why).await;
            return;
        }
        let run = (self.handler)((envelope.clone(), delivery.attempt));
        let outcome = causal::within(&envelope, AssertUnwindSafe(run).catch_unwind())
            .await
            .unwrap_or_else(|panic| {
                Outcome::Failed(Error::internal(format!(
                    "panicked: {}",
                    microcore::panic::message(&*panic)
                )))
            });
        match outcome {
            Outcome::Done(reply) => {
                if let (Some(value), true) = (reply, self.replies) {
                    self.reply(&envelope, Ok(value)).await;
                }
                self.settle(self.consumer.ack(&delivery).await);
            }
            Outcome::Undecodable(reason) => {
                if self.replies {
                    let invalid = Error::new(ErrorKind::Validation, reason.clone());
                    self.reply(&envelope, Err(invalid)).await;
                }
                self.bury(&delivery, &reason).await;
            }
            Outcome::Failed(error) if self.replies => {
                trace::failed();
                tracing::warn!(topic = %self.topic, group = %self.group, "request handler failed: {}", error.chain());
                self.reply(&envelope, Err(error)).await;
                self.settle(self.consumer.ack(&delivery).await);
            }
            Outcome::Failed(error) => {
                let why = error.chain();
                if delivery.attempt >= self.core.options.max_attempts {
                    self.bury(&delivery, &why).await;
                } else {
                    trace::failed();
                    let delay = self.core.options.backoff(delivery.attempt);
                    tracing::warn!(
                        topic = %self.topic, group = %self.group, id = %envelope.id,
                        attempt = delivery.attempt,
                        "handler failed, retrying in {} ms: {why}", delay.as_millis()
                    );
                    self.settle(self.consumer.retry(&delivery, delay).await);
                }
            }
        }
    }

    /// Gives up on a delivery: a dead letter, and `event.delivery.failed`
    /// (caused by the failed event) unless that is what failed.
    async fn bury(&self, delivery: &Delivery, reason: &str) {
        trace::failed();
        let envelope = &delivery.envelope;
        tracing::error!(
            topic = %self.topic, group = %self.group, id = %envelope.id,
            attempts = delivery.attempt, "delivery failed for good: {reason}"
        );
        self.settle(self.consumer.dead(delivery, reason).await);
        if envelope.event == DELIVERY_FAILED {
            return;
        }
        let payload = serde_json::json!({
            "event": envelope.event,
            "event_id": envelope.id,
            "subscriber": self.group,
            "error": reason,
            "attempts": delivery.attempt,
        });
        let mut failed = Envelope::new(DELIVERY_FAILED, payload, BUS_EMITTER);
        causal::within(envelope, async { causal::stamp(&mut failed) }).await;
        if let Err(e) = self.core.send(failed).await {
            tracing::warn!("cannot publish {DELIVERY_FAILED}: {}", e.chain());
        }
    }

    async fn reply(&self, request: &Arc<Envelope>, answer: Result<serde_json::Value>) {
        let Some(reply) = reply::reply_envelope(request, answer, self.owner) else {
            return;
        };
        if let Err(e) = self.core.send(reply).await {
            tracing::warn!(topic = %self.topic, "cannot send a reply: {}", e.chain());
        }
    }

    /// A failed ack/retry/bury leaves the delivery pending in a durable
    /// driver (it comes again): worth a warning, not a stop.
    fn settle(&self, outcome: Result<()>) {
        if let Err(e) = outcome {
            tracing::warn!(topic = %self.topic, group = %self.group, "cannot record a delivery's outcome: {}", e.chain());
        }
    }
}

/// The attempt past which a delivery is given up without running it: one
/// whose handler never reported (it crashed its process, again and again)
/// must not loop forever. Well past `max_attempts`, since a durable
/// driver may count a hand-over between replicas as an attempt.
fn unsettled_limit(max_attempts: u32) -> u32 {
    max_attempts
        .saturating_mul(2)
        .max(max_attempts.saturating_add(2))
}

#[cfg(test)]
mod tests {
    use super::unsettled_limit;

    #[test]
    fn unsettled_deliveries_are_given_up_well_past_the_retry_policy() {
        assert_eq!(unsettled_limit(1), 3);
        assert_eq!(unsettled_limit(5), 10);
        assert_eq!(unsettled_limit(u32::MAX), u32::MAX);
    }
}
