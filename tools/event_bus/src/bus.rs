//! The `EventBus` handle and the state its copies share.
//!
//! Every plugin gets its own copy of the handle, tagged with the plugin's
//! name (`for_owner`), which becomes the `emitter` of what it publishes and
//! the prefix of its default consumer groups; all copies share one [`Core`]
//! (in `shared.rs`, below the workers that also hold it): the driver, the
//! retry policy, the running subscriptions and the topology.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use microcore::sync::lock;

use microcore::{Error, Result, ToolHandle};
use tokio::sync::broadcast;

use microcore_db::Db;

use crate::driver::{self, DeadLetter, Driver, Guarantee, MemoryDriver, RecordingDriver};
use crate::outbox::Outbox;
use crate::shared::{Core, Live};
use crate::topology::{PayloadSchema, Role, TopicInfo, Topology};
use crate::{BusOptions, BusSettings, DriverOptions, Envelope};

/// Publishes and subscribes: the `event_bus` tool's handle.
///
/// ```
/// use std::time::Duration;
/// use microcore::prelude::*;
/// use microcore_event_bus::{Event, EventBus};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize)]
/// struct UserCreated { id: i64, email: String }
///
/// /// What the welcome subscriber reads: its own type, only the fields it needs.
/// #[derive(Deserialize)]
/// struct NewUser { email: String }
///
/// #[plugin(domain = "docs")]
/// pub struct Welcome { bus: EventBus }
///
/// impl Plugin for Welcome {
///     async fn on_boot(self: Arc<Self>) -> Result<()> {
///         self.bus.subscribe("user.created", &self, Self::on_user_created).await?;
///         Ok(())
///     }
/// }
///
/// impl Welcome {
///     async fn on_user_created(self: Arc<Self>, event: Event<NewUser>) -> Result<()> {
///         self.bus
///             .publish("welcome.notify.sent", &serde_json::json!({"email": event.payload.email}))
///             .await?;
///         Ok(())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<()> {
/// let bus = EventBus::memory();
/// let welcome = Arc::new(Welcome { bus: bus.for_owner("docs.Welcome") });
/// welcome.clone().on_boot().await?;
/// let mut watch = bus.watch();
/// let id = bus.publish("user.created", &UserCreated { id: 1, email: "a@b.c".into() }).await?;
/// let sent = loop {
///     let e = watch.recv().await.unwrap();
///     if e.event == "welcome.notify.sent" { break e; }
/// };
/// assert_eq!(sent.parent_id.as_deref(), Some(id.as_str()), "caused by user.created");
/// assert_eq!(sent.emitter, "docs.Welcome");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct EventBus {
    pub(crate) core: Arc<Core>,
    pub(crate) owner: &'static str,
}

impl fmt::Debug for EventBus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventBus")
            .field("backend", &self.core.driver.backend())
            .field("owner", &self.owner)
            .finish_non_exhaustive()
    }
}

impl ToolHandle for EventBus {
    const NAME: &'static str = "event_bus";

    fn for_owner(&self, owner: &'static str) -> Self {
        Self {
            core: self.core.clone(),
            owner,
        }
    }
}

#[microcore::tool(guide = "../AI.md")]
impl EventBus {
    /// A bus on `driver`, for a handle used outside a plugin (`emitter`
    /// `app`; use `for_owner` to tag it).
    pub fn from_driver(driver: Arc<dyn Driver>, options: BusOptions) -> Self {
        Self::build(driver, options, None)
    }

    fn build(
        driver: Arc<dyn Driver>,
        options: BusOptions,
        recording: Option<Arc<RecordingDriver>>,
    ) -> Self {
        Self {
            core: Arc::new(Core {
                driver,
                options,
                topology: Topology::default(),
                subscriptions: Mutex::default(),
                next_id: AtomicU64::new(1),
                draining: AtomicBool::new(false),
                inbox: tokio::sync::OnceCell::new(),
                pending: Mutex::default(),
                recording,
                calls: std::sync::OnceLock::new(),
                outbox: std::sync::OnceLock::new(),
            }),
            owner: "app",
        }
    }

    /// An in-process bus with the default options (`memory://`).
    pub fn memory() -> Self {
        Self::from_driver(Arc::new(MemoryDriver::new()), BusOptions::default())
    }

    /// The bus `url` names, with the default [`DriverOptions`]. The URL is
    /// `memory://`, `sqlite://<path>`, `redis://host:port[/db]` or
    /// `nats://host:port`; the options use prefix `microcore` (see
    /// [`EventBus::open`] for other ones).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use microcore_event_bus::{BusOptions, EventBus};
    /// let bus = EventBus::connect("memory://", BusOptions::default()).await.unwrap();
    /// assert_eq!(bus.backend(), "memory");
    /// let e = EventBus::connect("kafka://x", BusOptions::default()).await.unwrap_err();
    /// assert!(e.to_string().starts_with("EVENT_BUS_URL='kafka://x' is invalid"));
    /// # }
    /// ```
    ///
    /// # Errors
    /// A configuration error naming `EVENT_BUS_URL` for an unknown scheme
    /// or a store that cannot be opened.
    pub async fn connect(url: &str, options: BusOptions) -> Result<Self> {
        Self::open(&BusSettings {
            url: url.to_string(),
            options,
            driver: DriverOptions::default(),
        })
        .await
    }

    /// The bus `settings` describe: what the `event_bus` tool builds from
    /// the `EVENT_BUS_*` variables.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use microcore_config::Config;
    /// use microcore_event_bus::{BusSettings, EventBus};
    /// let settings = BusSettings::from_config(&Config::from_pairs([("EVENT_BUS_URL", "memory://")])).unwrap();
    /// let bus = EventBus::open(&settings).await.unwrap();
    /// assert_eq!(bus.backend(), "memory");
    /// # }
    /// ```
    ///
    /// # Errors
    /// A configuration error naming the variable at fault: an unknown
    /// scheme, a store or broker that cannot be opened, a bad prefix.
    pub async fn open(settings: &BusSettings) -> Result<Self> {
        let driver = driver::open_with(&settings.url, &settings.driver).await?;
        Ok(Self::from_driver(driver, settings.options.clone()))
    }

    /// A bus that records every publish and delivers nothing: the test kit
    /// for a plugin, with no app running. See [`EventBus::published`] and
    /// [`EventBus::assert_published`].
    pub fn recording() -> Self {
        let driver = Arc::new(RecordingDriver::default());
        Self::build(driver.clone(), BusOptions::default(), Some(driver))
    }

    /// The plugin this copy belongs to (`app` outside a plugin).
    pub fn owner(&self) -> &'static str {
        self.owner
    }

    /// The driver's name (`memory`, `sqlite`, `redis`, `nats`, `recording`).
    pub fn backend(&self) -> &'static str {
        self.core.driver.backend()
    }

    /// The driver's delivery guarantee.
    pub fn guarantee(&self) -> Guarantee {
        self.core.driver.guarantee()
    }

    /// The retry policy.
    pub fn options(&self) -> &BusOptions {
        &self.core.options
    }

    /// Every dead letter, oldest first.
    ///
    /// # Errors
    /// [`Error::unavailable`] when the backend cannot be reached.
    pub async fn dead_letters(&self) -> Result<Vec<DeadLetter>> {
        self.core.driver.dead_letters().await
    }

    /// Delivers dead letter `id` again to the group that gave up on it, as
    /// a first attempt.
    ///
    /// # Errors
    /// [`Error::not_found`] for an unknown id (or a group gone from an
    /// in-process bus); [`Error::unavailable`] when the backend is down.
    pub async fn replay(&self, id: &str) -> Result<()> {
        self.core.driver.replay(id).await
    }

    /// Declares that this plugin publishes `T` to `topic`: the topology
    /// (and the contract check) then knows the payload's schema.
    ///
    /// ```
    /// # use microcore_event_bus::EventBus;
    /// #[derive(serde::Serialize, utoipa::ToSchema)]
    /// struct UserDeleted { id: i64 }
    ///
    /// let bus = EventBus::recording();
    /// bus.publishes::<UserDeleted>("user.deleted");
    /// assert_eq!(bus.topology()[0].schemas[0].type_name, "UserDeleted");
    /// ```
    pub fn publishes<T: utoipa::ToSchema>(&self, topic: &str) -> &Self {
        self.core
            .topology
            .declare(topic, schema_of::<T>(self.owner, Role::Publisher));
        self
    }

    /// Every topic this process published or subscribed, by name.
    pub fn topology(&self) -> Vec<TopicInfo> {
        self.core.topology.topics()
    }

    /// The last published envelopes (up to
    /// [`RECENT_CAPACITY`](crate::topology::RECENT_CAPACITY)), newest first.
    pub fn recent(&self) -> Vec<Arc<Envelope>> {
        self.core.topology.recent()
    }

    /// Every envelope published from now on (by this process), for live
    /// streams. A receiver that falls behind by more than 1024 envelopes
    /// gets `RecvError::Lagged` and continues from the oldest kept.
    pub fn watch(&self) -> broadcast::Receiver<Arc<Envelope>> {
        self.core.topology.watch()
    }

    /// Whether the backend answers.
    ///
    /// # Errors
    /// [`Error::unavailable`] when it does not.
    pub async fn ping(&self) -> Result<()> {
        self.core.driver.ping().await
    }

    /// Stops taking deliveries and waits for in-flight handlers to finish.
    /// Publishing still works (handlers finishing may publish).
    pub async fn drain(&self) {
        self.core.draining.store(true, Ordering::SeqCst);
        let live: Vec<Live> = std::mem::take(&mut *lock(&self.core.subscriptions));
        for sub in &live {
            sub.stop.send_replace(true);
        }
        for sub in live {
            self.core
                .topology
                .unsubscribed(&sub.topic, &sub.group, sub.owner);
            let _ = sub.task.await;
        }
    }

    /// Drains, stops the outbox relay, then closes the driver. The relay
    /// makes a last pass first, so what was committed goes out now if the
    /// broker answers.
    pub async fn shutdown(&self) {
        self.drain().await;
        if let Some(outbox) = self.core.outbox.get() {
            outbox.stop().await;
        }
        self.core.driver.close().await;
    }

    /// Relays `db`'s outbox to this bus (the tool does it at boot). It
    /// publishes what [`publish_in`](EventBus::publish_in) writes to `db`'s
    /// outbox: attaches the relay to this bus and starts it. Its first pass
    /// publishes what a previous run left (a crash between a commit and
    /// its publish, a broker that was down); then it wakes at each commit
    /// that wrote to the outbox and sweeps every few seconds. The tool does
    /// this once the plugins are booted; call it for a bus built by hand.
    ///
    /// ```
    /// use microcore_db::Db;
    /// use microcore_event_bus::EventBus;
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> microcore::Result<()> {
    /// let db = Db::memory().await?; // with the outbox's migration, as the tool applies it
    /// let bus = EventBus::memory();
    /// bus.relay_outbox(&db);
    /// # bus.shutdown().await;
    /// # Ok(()) }
    /// ```
    ///
    /// One bus relays one database's outbox: once attached, later calls
    /// start the same relay (and name no other database).
    pub fn relay_outbox(&self, db: &Db) {
        self.attach_outbox(db).start(&self.core);
    }

    /// Attaches the relay of `db`'s outbox without starting it: commits
    /// wake it once started, and nothing is published inline meanwhile.
    pub(crate) fn attach_outbox(&self, db: &Db) -> &Arc<Outbox> {
        self.core
            .outbox
            .get_or_init(|| Arc::new(Outbox::new(db.clone())))
    }

    /// Stops every subscription of `plugin` (a plugin that died at boot)
    /// and forgets its declared schemas. Durable groups keep their
    /// pending deliveries for the next boot.
    pub fn withdraw(&self, plugin: &str) {
        let gone: Vec<Live> = {
            let mut subs = lock(&self.core.subscriptions);
            let (gone, kept) = std::mem::take(&mut *subs)
                .into_iter()
                .partition(|s| s.owner == plugin);
            *subs = kept;
            gone
        };
        for sub in gone {
            sub.stop.send_replace(true);
            self.core
                .topology
                .unsubscribed(&sub.topic, &sub.group, sub.owner);
        }
        self.core.topology.withdraw(plugin);
    }
}

/// `T`'s schema, declared by `plugin` in `role`.
pub(crate) fn schema_of<T: utoipa::ToSchema>(plugin: &str, role: Role) -> PayloadSchema {
    PayloadSchema {
        plugin: plugin.to_string(),
        role,
        type_name: T::name().into_owned(),
        json_schema: serde_json::to_value(T::schema()).unwrap_or_default(),
    }
}

/// A bus error for a closed or draining bus.
pub(crate) fn draining_error() -> Error {
    Error::unavailable(std::io::Error::other(
        "the event bus is draining: no new subscriptions",
    ))
}
