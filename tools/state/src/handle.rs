//! [`State`]: the handle plugins hold. It owns what every backend shares
//! (key prefixes, namespaces, JSON) so drivers stay small.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use microcore::{Error, Result, ToolHandle};
use microcore_calls::Calls;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::memory::MemoryDriver;
#[cfg(feature = "redis")]
use crate::redis_driver::RedisDriver;
use crate::{StateDriver, StateSettings, StateUrl};

/// Key/value state with TTLs and atomic counters, in memory or on Redis.
///
/// Cheap to clone (two `Arc`s). Every key is stored as the handle's prefix
/// followed by the key; [`State::namespace`] extends the prefix.
///
/// ```
/// use std::time::Duration;
/// use microcore_state::State;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> microcore::Result<()> {
/// let state = State::memory();
/// state.set("greeting", "hello", None).await?;
/// assert_eq!(state.get("greeting").await?.as_deref(), Some("hello"));
///
/// // A fixed window: the TTL starts at the first failure and is not extended.
/// let failures = state.namespace("login");
/// let window = Some(Duration::from_secs(900));
/// assert_eq!(failures.incr("ada@example.com", 1, window).await?, 1);
/// assert_eq!(failures.incr("ada@example.com", 1, window).await?, 2);
/// assert!(failures.ttl("ada@example.com").await?.unwrap() <= Duration::from_secs(900));
/// # Ok(()) }
/// ```
///
/// A plugin that uses state is tested with a struct literal, no app needed:
///
/// ```
/// use microcore::prelude::*;
/// use microcore_state::State;
///
/// #[plugin(domain = "docs")]
/// pub struct Visits {
///     state: State,
/// }
///
/// impl Plugin for Visits {}
///
/// impl Visits {
///     async fn visit(&self) -> Result<i64> {
///         self.state.incr("visits", 1, None).await
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let plugin = Visits { state: State::memory() };
/// assert_eq!(plugin.visit().await.unwrap(), 1);
/// assert_eq!(plugin.visit().await.unwrap(), 2);
/// # }
/// ```
#[derive(Clone)]
pub struct State {
    driver: Arc<dyn StateDriver>,
    prefix: Arc<str>,
    /// Where each call is reported (the app's `calls` tool; a slot
    /// nobody records in for a handle built outside an app).
    calls: Calls,
    owner: &'static str,
}

impl ToolHandle for State {
    const NAME: &'static str = "state";

    fn for_owner(&self, owner: &'static str) -> Self {
        Self {
            owner,
            ..self.clone()
        }
    }
}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("State")
            .field("backend", &self.driver.backend())
            .field("prefix", &self.prefix)
            .finish()
    }
}

#[microcore::tool(guide = "../AI.md")]
impl State {
    /// A fresh in-memory state with no prefix: for tests and single-process apps.
    ///
    /// Each call makes a separate store; clones of one handle share it.
    ///
    /// ```
    /// let state = microcore_state::State::memory();
    /// assert_eq!(state.backend(), "memory");
    /// ```
    pub fn memory() -> Self {
        Self::from_driver(Arc::new(MemoryDriver::default()))
    }

    /// A state over a backend of your own, with no prefix.
    ///
    /// See [`StateDriver`] for an example.
    pub fn from_driver(driver: Arc<dyn StateDriver>) -> Self {
        Self {
            driver,
            prefix: Arc::from(""),
            calls: Calls::default(),
            owner: "app",
        }
    }

    /// Opens the backend `settings` name, with its prefix: connects to
    /// Redis at once, so an unreachable server is known before any plugin
    /// relies on it.
    ///
    /// ```
    /// use microcore_state::{State, StateSettings, StateUrl};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let settings = StateSettings { prefix: "app:".into(), ..StateSettings::default() };
    /// let state = State::connect(&settings).await.unwrap();
    /// assert_eq!(state.prefix(), "app:");
    ///
    /// let down = StateSettings {
    ///     url: StateUrl::parse("redis://127.0.0.1:1").unwrap(),
    ///     prefix: "app:".into(),
    ///     ..StateSettings::default()
    /// };
    /// let e = State::connect(&down).await.unwrap_err();
    /// assert!(e.to_string().starts_with("cannot connect to Redis at STATE_URL='redis://127.0.0.1:1'"), "{e}");
    /// # }
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::Unavailable`](microcore::ErrorKind::Unavailable), naming
    /// `STATE_URL` (password masked), when Redis cannot be reached.
    pub async fn connect(settings: &StateSettings) -> Result<Self> {
        let driver: Arc<dyn StateDriver> = match &settings.url {
            StateUrl::Memory => Arc::new(MemoryDriver::with_max_keys(settings.memory_max_keys)),
            #[cfg(not(feature = "redis"))]
            StateUrl::Redis(_) => {
                return Err(
                    crate::settings::REDIS.compiled_out("STATE_URL", &settings.url.redacted())
                );
            }
            #[cfg(feature = "redis")]
            StateUrl::Redis(url) => Arc::new(RedisDriver::connect(url).await.map_err(|e| {
                Error::new(
                    microcore::ErrorKind::Unavailable,
                    format!(
                        "cannot connect to Redis at STATE_URL='{}'",
                        settings.url.redacted()
                    ),
                )
                .with_source(e)
            })?),
        };
        Ok(Self {
            prefix: Arc::from(settings.prefix.as_str()),
            ..Self::from_driver(driver)
        })
    }

    /// The same store seen under `name:`: keys of different namespaces
    /// never collide, and namespaces nest. An empty name changes nothing.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> microcore::Result<()> {
    /// let state = microcore_state::State::memory();
    /// let login = state.namespace("login");
    /// let attempts = login.namespace("attempts");
    /// assert_eq!(attempts.prefix(), "login:attempts:");
    ///
    /// attempts.set("ada", "3", None).await?;
    /// assert_eq!(state.get("login:attempts:ada").await?.as_deref(), Some("3"));
    /// assert_eq!(login.get("ada").await?, None);
    /// # Ok(()) }
    /// ```
    pub fn namespace(&self, name: &str) -> Self {
        if name.is_empty() {
            return self.clone();
        }
        Self {
            prefix: Arc::from(format!("{}{name}:", self.prefix)),
            ..self.clone()
        }
    }

    /// What every key of this handle is stored under (`STATE_PREFIX`, then
    /// each namespace followed by `:`).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The backend's name: `"memory"` or `"redis"`.
    pub fn backend(&self) -> &'static str {
        self.driver.backend()
    }

    /// This handle, reporting its calls to `calls`. So do its namespaces
    /// (tool `state`, the plugin holding the copy, duration, success).
    ///
    /// ```
    /// let state = microcore_state::State::memory().with_calls(microcore_calls::Calls::default());
    /// # let _ = state;
    /// ```
    pub fn with_calls(mut self, calls: Calls) -> Self {
        self.calls = calls;
        self
    }

    /// This handle, reporting no call. For background work whose steady
    /// stream of calls (a poll every tenth of a second) would push the
    /// requests' own calls out of the recent-call list.
    ///
    /// ```
    /// let state = microcore_state::State::memory().with_calls(microcore_calls::Calls::default());
    /// let quiet = state.unrecorded();
    /// # let _ = quiet;
    /// ```
    pub fn unrecorded(&self) -> Self {
        Self {
            calls: Calls::default(),
            ..self.clone()
        }
    }

    /// `work`, reported as one call of `method`.
    async fn timed<T>(
        &self,
        method: &'static str,
        work: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        self.calls.timed("state", method, self.owner, work).await
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// The value at `key`, or `None` when it is missing or expired.
    ///
    /// # Errors
    /// [`ErrorKind::Unavailable`](microcore::ErrorKind::Unavailable) (503)
    /// when the backend cannot be reached.
    pub async fn get(&self, key: &str) -> Result<Option<String>> {
        self.timed("get", self.driver.get(&self.key(key))).await
    }

    /// Stores `value` at `key`, replacing any value and TTL; with
    /// `ttl: Some(d)` the key disappears after `d` (a zero TTL expires it at once).
    ///
    /// ```
    /// use std::time::Duration;
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> microcore::Result<()> {
    /// let state = microcore_state::State::memory();
    /// state.set("session:42", "ada", Some(Duration::from_secs(3600))).await?;
    /// assert!(state.ttl("session:42").await?.is_some());
    /// state.set("session:42", "ada", None).await?;
    /// assert_eq!(state.ttl("session:42").await?, None);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// 503 when the backend cannot be reached.
    pub async fn set(
        &self,
        key: &str,
        value: impl Into<String>,
        ttl: Option<Duration>,
    ) -> Result<()> {
        self.timed("set", self.driver.set(&self.key(key), value.into(), ttl))
            .await
    }

    /// Removes `key`; `true` when it existed (and had not expired).
    ///
    /// # Errors
    /// 503 when the backend cannot be reached.
    pub async fn delete(&self, key: &str) -> Result<bool> {
        self.timed("delete", self.driver.delete(&self.key(key)))
            .await
    }

    /// Adds `by` (negative to subtract) to the counter at `key` and returns
    /// the new value, atomically across tasks, and across replicas on Redis.
    ///
    /// A missing key counts as 0. `ttl_on_create` is applied only when this
    /// call creates the counter, so the window starts at the first increment
    /// and later increments never extend it: exactly a fixed-window rate
    /// limit ("5 failures per 15 minutes, counted from the first").
    ///
    /// ```
    /// use std::time::Duration;
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> microcore::Result<()> {
    /// let state = microcore_state::State::memory().namespace("login-failures");
    /// let failures = state.incr("ada@example.com", 1, Some(Duration::from_secs(900))).await?;
    /// if failures > 5 {
    ///     return Err(microcore::Error::business("Too many attempts").with_status(429));
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// 503 when the backend cannot be reached; an internal error (500) when
    /// the key holds something other than an integer, or on overflow.
    pub async fn incr(&self, key: &str, by: i64, ttl_on_create: Option<Duration>) -> Result<i64> {
        self.timed("incr", self.driver.incr(&self.key(key), by, ttl_on_create))
            .await
    }

    /// The time `key` has left, or `None` when it is missing or never expires.
    ///
    /// # Errors
    /// 503 when the backend cannot be reached.
    pub async fn ttl(&self, key: &str) -> Result<Option<Duration>> {
        self.timed("ttl", self.driver.ttl(&self.key(key))).await
    }

    /// The JSON value at `key`, decoded as `T`.
    ///
    /// ```
    /// use serde::{Deserialize, Serialize};
    ///
    /// #[derive(Debug, PartialEq, Serialize, Deserialize)]
    /// struct Cart { items: Vec<String> }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> microcore::Result<()> {
    /// let state = microcore_state::State::memory();
    /// state.set_json("cart:7", &Cart { items: vec!["tea".into()] }, None).await?;
    /// let cart: Option<Cart> = state.get_json("cart:7").await?;
    /// assert_eq!(cart.unwrap().items, ["tea"]);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// 503 when the backend cannot be reached; an internal error when the
    /// stored value is not JSON of that shape.
    pub async fn get_json<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        let Some(raw) = self.get(key).await? else {
            return Ok(None);
        };
        serde_json::from_str(&raw).map(Some).map_err(|e| {
            Error::internal(format!(
                "state key '{}' does not hold JSON of type {}: {e}",
                self.key(key),
                std::any::type_name::<T>()
            ))
        })
    }

    /// Stores `value` as JSON at `key`, like [`State::set`].
    ///
    /// # Errors
    /// 503 when the backend cannot be reached; an internal error when
    /// `value` cannot be serialized (a map with non-string keys, say).
    pub async fn set_json<T: Serialize + ?Sized>(
        &self,
        key: &str,
        value: &T,
        ttl: Option<Duration>,
    ) -> Result<()> {
        let raw = serde_json::to_string(value).map_err(|e| {
            Error::internal(format!(
                "state key '{}': value cannot be serialized as JSON: {e}",
                self.key(key)
            ))
        })?;
        self.set(key, raw, ttl).await
    }

    /// Checks that the backend answers.
    ///
    /// # Errors
    /// 503 when it does not.
    pub async fn ping(&self) -> Result<()> {
        self.timed("ping", self.driver.ping()).await
    }
}
