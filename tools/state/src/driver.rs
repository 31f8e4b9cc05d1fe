//! The backend contract: what a store must do for [`State`](crate::State).
//!
//! The handle does the key prefixing, namespaces and JSON; a driver only
//! stores flat string keys. Keeping this trait small and object-safe is what
//! lets `STATE_URL` swap backends without a plugin changing by a line, and
//! lets a project bring its own store with [`State::from_driver`](crate::State::from_driver).

use std::fmt::Debug;
use std::time::Duration;

use futures::future::BoxFuture;
use microcore::Result;

/// A key/value store behind a [`State`](crate::State) handle.
///
/// Keys arrive fully prefixed. Every method is one atomic step: in
/// particular [`StateDriver::incr`] must never lose an increment under
/// concurrent callers, and must set the TTL only when it creates the key.
/// Errors follow the kernel's kinds: a backend that cannot be reached is
/// [`Error::unavailable`](microcore::Error::unavailable) (HTTP 503).
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use futures::future::BoxFuture;
/// use microcore::{Error, Result};
/// use microcore_state::{State, StateDriver};
///
/// /// A store that is always down: every call is a 503.
/// #[derive(Debug)]
/// struct Down;
///
/// impl StateDriver for Down {
///     fn backend(&self) -> &'static str { "down" }
///     fn get<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<Option<String>>> {
///         Box::pin(async { Err(Error::unavailable("down")) })
///     }
///     fn set<'a>(&'a self, _: &'a str, _: String, _: Option<Duration>) -> BoxFuture<'a, Result<()>> {
///         Box::pin(async { Err(Error::unavailable("down")) })
///     }
///     fn delete<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<bool>> {
///         Box::pin(async { Err(Error::unavailable("down")) })
///     }
///     fn incr<'a>(&'a self, _: &'a str, _: i64, _: Option<Duration>) -> BoxFuture<'a, Result<i64>> {
///         Box::pin(async { Err(Error::unavailable("down")) })
///     }
///     fn ttl<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<Option<Duration>>> {
///         Box::pin(async { Err(Error::unavailable("down")) })
///     }
///     fn ping(&self) -> BoxFuture<'_, Result<()>> {
///         Box::pin(async { Err(Error::unavailable("down")) })
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let state = State::from_driver(Arc::new(Down));
/// assert_eq!(state.get("k").await.unwrap_err().kind(), microcore::ErrorKind::Unavailable);
/// # }
/// ```
pub trait StateDriver: Debug + Send + Sync + 'static {
    /// A short name of the backend (`"memory"`, `"redis"`), for logs and health.
    fn backend(&self) -> &'static str;

    /// The value of `key`, or `None` when it is missing or expired.
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<String>>>;

    /// Stores `value`; `ttl: None` means no expiry (an earlier TTL is dropped).
    fn set<'a>(
        &'a self,
        key: &'a str,
        value: String,
        ttl: Option<Duration>,
    ) -> BoxFuture<'a, Result<()>>;

    /// Removes `key`; `true` when it existed.
    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<bool>>;

    /// Adds `by` to the integer at `key` (a missing key counts as 0) and
    /// returns the new value, atomically. `ttl_on_create` applies only when
    /// this call creates the key; an existing key keeps its expiry.
    fn incr<'a>(
        &'a self,
        key: &'a str,
        by: i64,
        ttl_on_create: Option<Duration>,
    ) -> BoxFuture<'a, Result<i64>>;

    /// The time `key` has left, or `None` when it is missing or never expires.
    fn ttl<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Duration>>>;

    /// Checks that the backend answers (used by the tool's health check).
    fn ping(&self) -> BoxFuture<'_, Result<()>>;
}
