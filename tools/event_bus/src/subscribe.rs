//! Subscribing: plugin methods as typed handlers, and consumer groups.
//!
//! A handler is a plugin method, `async fn(self: Arc<Self>, Event<T>)`.
//! It is erased once, here, into a function from an envelope to an
//! [`Outcome`], so the delivery loop is the same for every payload type and
//! every driver. The default consumer group is `<plugin>.<method>`, read
//! from the method's type name: stable across restarts (durable groups
//! resume) and distinct per handler.

use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use microcore::method::Bound;
use microcore::{Error, Result};
use serde::Serialize;
use tokio::sync::watch;

use crate::bus::{draining_error, schema_of};
use crate::shared::Live;
use crate::topology::{PayloadSchema, Role};
use crate::worker::{Handler, Outcome, Worker};
use crate::{EventArg, EventBus};
use microcore::sync::lock;

/// A running subscription, as [`EventBus::subscribe`] returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    id: u64,
    topic: String,
    group: String,
}

#[microcore::tool(part_of = crate::EventBus)]
impl Subscription {
    /// The topic.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// The consumer group.
    pub fn group(&self) -> &str {
        &self.group
    }
}

/// A subscription being prepared; `.await` starts it.
///
/// ```
/// use microcore::prelude::*;
/// use microcore_event_bus::{Event, EventBus};
///
/// struct Audit;
/// impl Audit {
///     async fn on_any(self: Arc<Self>, _event: Event<serde_json::Value>) -> Result<()> { Ok(()) }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<()> {
/// let bus = EventBus::memory().for_owner("audit.Audit");
/// let audit = Arc::new(Audit);
/// let sub = bus.subscribe("user.created", &audit, Audit::on_any).await?;
/// assert_eq!(sub.group(), "audit.Audit.on_any");
/// let shared = bus.subscribe("user.created", &audit, Audit::on_any).group("audit-all").await?;
/// assert_eq!(shared.group(), "audit-all");
/// # Ok(()) }
/// ```
#[must_use = "a subscription starts only when `.await`ed"]
pub struct Subscribe<'a, T> {
    bus: &'a EventBus,
    topic: String,
    group: String,
    handler: Handler,
    replies: bool,
    schema: Option<PayloadSchema>,
    /// The reply's type name, for a subscription made with `respond`.
    reply_type: Option<&'static str>,
    _payload: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for Subscribe<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscribe")
            .field("topic", &self.topic)
            .field("group", &self.group)
            .finish_non_exhaustive()
    }
}

#[microcore::tool(part_of = crate::EventBus)]
impl<T> Subscribe<'_, T> {
    /// Joins consumer group `group` instead of the default
    /// `<plugin>.<method>`: handlers sharing a group share its events (each
    /// event handled once by one of them).
    pub fn group(mut self, group: impl Into<String>) -> Self {
        self.group = group.into();
        self
    }

    /// Declares the handler's payload schema (from `utoipa::ToSchema`), so
    /// the topology and the contract check know what it reads.
    pub fn with_schema(mut self) -> Self
    where
        T: utoipa::ToSchema,
    {
        self.schema = Some(schema_of::<T>(self.bus.owner, Role::Subscriber));
        self
    }
}

impl<'a, T> IntoFuture for Subscribe<'a, T> {
    type Output = Result<Subscription>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<Subscription>> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            if let Some(schema) = self.schema {
                self.bus.core.topology.declare(&self.topic, schema);
            }
            if let Some(reply_type) = self.reply_type {
                self.bus
                    .core
                    .topology
                    .replies(&self.topic, self.bus.owner, reply_type);
            }
            self.bus
                .start(self.topic, self.group, self.handler, self.replies)
                .await
        })
    }
}

/// The default group: `<plugin>.<method>`, the method's name read from
/// its type. A closure has no name, so its group is named after the topic.
pub(crate) fn default_group<P, F>(owner: &str, topic: &str) -> String {
    format!("{owner}.{}", Bound::<P, F>::name().unwrap_or(topic))
}

/// What a subscription runs: a plugin method `async fn(self: Arc<Self>,
/// event: Event<T>) -> Result<R>` (`R` is `()` for
/// [`subscribe`](EventBus::subscribe), the reply for
/// [`respond`](EventBus::respond)). Nothing to implement: every such
/// method is one.
///
/// ```
/// use microcore::prelude::*;
/// use microcore_event_bus::{Event, Subscriber};
///
/// struct Welcome;
/// impl Welcome {
///     async fn on_user(self: Arc<Self>, _event: Event<serde_json::Value>) -> Result<()> { Ok(()) }
/// }
/// fn is_subscriber<P, A>(_: impl Subscriber<P, A, ()>) {}
/// is_subscriber::<Welcome, _>(Welcome::on_user);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot handle events for `{P}`",
    label = "not a subscriber",
    note = "a subscriber is a method of the plugin taking the whole event: `async fn name(self: Arc<Self>, event: Event<T>) -> Result<()>`, where `T: serde::Deserialize` is the payload (`event.payload`)",
    note = "`respond` takes the same method returning its reply: `-> Result<R>` where `R: serde::Serialize`"
)]
pub trait Subscriber<P, A, R>: Send + Sync + 'static {
    /// Runs the method on one decoded event.
    fn handle(&self, plugin: Arc<P>, event: A) -> impl Future<Output = Result<R>> + Send + 'static;
}

// Not recommended: the signature above says more than the bound that failed.
#[diagnostic::do_not_recommend]
impl<P, A, R, F, Fut> Subscriber<P, A, R> for F
where
    F: Fn(Arc<P>, A) -> Fut + Send + Sync + 'static,
    A: EventArg,
    Fut: Future<Output = Result<R>> + Send + 'static,
{
    fn handle(&self, plugin: Arc<P>, event: A) -> impl Future<Output = Result<R>> + Send + 'static {
        self(plugin, event)
    }
}

/// Erases `handler`, a method of `plugin`, into a [`Handler`]: a payload
/// that does not decode is undecodable, an error is a failure, and `done`
/// turns what the handler returned into the outcome.
fn erase<P, F, A, R, D>(plugin: &Arc<P>, handler: F, done: D) -> Handler
where
    P: Send + Sync + 'static,
    F: Subscriber<P, A, R> + Clone,
    A: EventArg + Send + 'static,
    D: Fn(R) -> Outcome + Copy + Send + Sync + 'static,
{
    Bound::new(plugin, handler).erase(move |bound, (envelope, attempt)| async move {
        match A::decode(envelope, attempt) {
            Err(reason) => Outcome::Undecodable(reason),
            Ok(event) => {
                let (plugin, handler) = bound.parts();
                match handler.handle(plugin, event).await {
                    Ok(value) => done(value),
                    Err(e) => Outcome::Failed(e),
                }
            }
        }
    })
}

#[microcore::tool]
impl EventBus {
    /// Runs `handler`, a method of `plugin`, for every event on `topic`
    /// (once per consumer group); `.await` to start it.
    ///
    /// The handler's payload type `T` is the subscriber's own: a payload
    /// that does not decode into it is a dead letter with the reason. A
    /// handler error is retried with exponential backoff, then becomes a
    /// dead letter and an `event.delivery.failed` event.
    pub fn subscribe<P, F, A>(
        &self,
        topic: &str,
        plugin: &Arc<P>,
        handler: F,
    ) -> Subscribe<'_, A::Payload>
    where
        P: Send + Sync + 'static,
        F: Subscriber<P, A, ()> + Clone,
        A: EventArg + Send + 'static,
    {
        let group = default_group::<P, F>(self.owner, topic);
        let erased = erase(plugin, handler, |()| Outcome::Done(None));
        self.prepare(topic, group, erased, false)
    }

    /// Answers requests on `topic` (see [`EventBus::request`]) with
    /// `handler`, a method of `plugin` returning the reply. An error is sent
    /// back to the requester at once (it is waiting): not retried.
    ///
    /// ```
    /// use std::time::Duration;
    /// use microcore::prelude::*;
    /// use microcore_event_bus::{Event, EventBus};
    ///
    /// #[derive(serde::Deserialize)]
    /// struct Add { a: i64, b: i64 }
    ///
    /// struct Calculator;
    /// impl Calculator {
    ///     async fn add(self: Arc<Self>, event: Event<Add>) -> Result<i64> {
    ///         Ok(event.payload.a + event.payload.b)
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<()> {
    /// let bus = EventBus::memory();
    /// bus.respond("math.add", &Arc::new(Calculator), Calculator::add).await?;
    /// let sum: i64 = bus
    ///     .request("math.add", &serde_json::json!({"a": 2, "b": 3}), Duration::from_secs(5))
    ///     .await?;
    /// assert_eq!(sum, 5);
    /// # Ok(()) }
    /// ```
    pub fn respond<P, F, A, R>(
        &self,
        topic: &str,
        plugin: &Arc<P>,
        handler: F,
    ) -> Subscribe<'_, A::Payload>
    where
        P: Send + Sync + 'static,
        F: Subscriber<P, A, R> + Clone,
        A: EventArg + Send + 'static,
        R: Serialize,
    {
        let group = default_group::<P, F>(self.owner, topic);
        let erased = erase(plugin, handler, |reply: R| {
            match serde_json::to_value(&reply) {
                Ok(value) => Outcome::Done(Some(value)),
                Err(e) => Outcome::Failed(Error::internal(format!(
                    "the reply cannot be serialized: {e}"
                ))),
            }
        });
        let mut subscribe = self.prepare(topic, group, erased, true);
        subscribe.reply_type = Some(std::any::type_name::<R>());
        subscribe
    }

    fn prepare<T>(
        &self,
        topic: &str,
        group: String,
        handler: Handler,
        replies: bool,
    ) -> Subscribe<'_, T> {
        Subscribe {
            bus: self,
            topic: topic.to_string(),
            group,
            handler,
            replies,
            schema: None,
            reply_type: None,
            _payload: PhantomData,
        }
    }

    /// Joins the group on the driver and starts the delivery loop.
    pub(crate) async fn start(
        &self,
        topic: String,
        group: String,
        handler: Handler,
        replies: bool,
    ) -> Result<Subscription> {
        if topic.trim().is_empty() || group.trim().is_empty() {
            return Err(Error::internal(format!(
                "cannot subscribe to topic '{topic}' in group '{group}': names must not be empty"
            )));
        }
        if self.core.draining.load(Ordering::SeqCst) {
            return Err(draining_error());
        }
        let consumer = self.core.driver.consume(&topic, &group).await?;
        let id = self.core.next_id.fetch_add(1, Ordering::Relaxed);
        let (stop, stopped) = watch::channel(false);
        let worker = Worker {
            core: self.core.clone(),
            consumer,
            handler,
            topic: topic.clone(),
            group: group.clone(),
            owner: self.owner,
            replies,
        };
        let task = tokio::spawn(worker.run(stopped));
        self.core.topology.subscribed(&topic, &group, self.owner);
        lock(&self.core.subscriptions).push(Live {
            id,
            owner: self.owner,
            topic: topic.clone(),
            group: group.clone(),
            stop,
            task,
        });
        Ok(Subscription { id, topic, group })
    }

    /// Stops a subscription, waiting for its in-flight handler.
    pub async fn unsubscribe(&self, subscription: &Subscription) {
        let live = {
            let mut subs = lock(&self.core.subscriptions);
            subs.iter()
                .position(|s| s.id == subscription.id)
                .map(|at| subs.remove(at))
        };
        if let Some(live) = live {
            live.stop.send_replace(true);
            self.core
                .topology
                .unsubscribed(&live.topic, &live.group, live.owner);
            let _ = live.task.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Event;

    struct Welcome;
    impl Welcome {
        async fn on_user_created(self: Arc<Self>, _: Event<serde_json::Value>) -> Result<()> {
            Ok(())
        }
    }

    fn group_of<F>(_: F) -> String {
        default_group::<Welcome, F>("users.Welcome", "user.created")
    }

    #[test]
    fn default_group_is_plugin_then_method() {
        assert_eq!(
            group_of(Welcome::on_user_created),
            "users.Welcome.on_user_created"
        );
        assert_eq!(group_of(|| ()), "users.Welcome.user.created");
    }
}
