//! The Redis backend (`redis://host:port[/db]`), shared by every replica.
//!
//! One [`ConnectionManager`]: a multiplexed connection that reconnects by
//! itself, so a Redis restart costs the requests made while it is down
//! (answered 503) and nothing after. Retries are few and timeouts short on
//! purpose: while Redis is down a request should fail fast with 503, not
//! hang behind a long backoff.
//!
//! `incr` with a TTL is one `MULTI`/`EXEC` transaction of `SET key 0 PX ttl
//! NX` and `INCRBY key by`, rather than a Lua script: the TTL is attached
//! by the very command that creates the key, so no crash or lost connection
//! can ever leave a counter without its expiry (as `INCR` then `EXPIRE`
//! could); `INCRBY` keeps an existing key's TTL, so a second increment never
//! extends the window; and it needs only plain commands, which every
//! Redis-compatible server accepts, even where scripting is disabled, with
//! no script cache to reload after a restart. redis-rs sends the whole
//! transaction as one write on the multiplexed connection, so other
//! requests never interleave with it.

use std::time::Duration;

use futures::future::BoxFuture;
use microcore::error::ERROR_CLASSIFIERS;
use microcore::{Error, ErrorKind, Result};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{RedisError, ServerErrorKind};

use crate::StateDriver;

/// Connection attempts after the first, when (re)connecting.
const RETRIES: usize = 2;
/// How long one connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long Redis may take to answer one command.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);
/// Redis rejects expiries past about `i64::MAX` ms from now; clamp far below.
const MAX_TTL_MS: u64 = (i64::MAX / 4) as u64;

/// The `redis://` driver.
#[derive(Debug)]
pub(crate) struct RedisDriver {
    conn: ConnectionManager,
}

impl RedisDriver {
    /// Connects once (failing fast when Redis is not there) and keeps the
    /// connection alive from then on.
    pub(crate) async fn connect(url: &str) -> std::result::Result<Self, RedisError> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_number_of_retries(RETRIES)
            .set_max_delay(Duration::from_millis(500))
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT));
        let conn = ConnectionManager::new_with_config(client, config).await?;
        Ok(Self { conn })
    }

    /// A connection to use for one call: clones share the same socket.
    fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }
}

/// Milliseconds for `PX`: at least 1 (Redis refuses 0, and a zero TTL means
/// "expires at once", as in the memory driver), at most [`MAX_TTL_MS`].
fn millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis())
        .unwrap_or(u64::MAX)
        .clamp(1, MAX_TTL_MS)
}

/// Whether a Redis error means "Redis cannot serve now" rather than a bug.
fn is_unavailable(e: &RedisError) -> bool {
    e.is_io_error()
        || e.is_timeout()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || e.is_unrecoverable_error()
        || matches!(
            e.kind(),
            redis::ErrorKind::Server(
                ServerErrorKind::BusyLoading
                    | ServerErrorKind::TryAgain
                    | ServerErrorKind::ClusterDown
                    | ServerErrorKind::MasterDown
                    | ServerErrorKind::ReadOnly
            )
        )
}

/// Lets `?` on a [`RedisError`] anywhere in the app answer 503 when Redis
/// is down, instead of 500.
#[microcore::__private::linkme::distributed_slice(ERROR_CLASSIFIERS)]
#[linkme(crate = microcore::__private::linkme)]
static CLASSIFY_REDIS: microcore::error::ErrorClassifier = |e| {
    e.downcast_ref::<RedisError>()
        .filter(|e| is_unavailable(e))
        .map(|_| ErrorKind::Unavailable)
};

/// A Redis error as the kernel's error, naming the key for a non-transient one.
fn error(key: &str, e: RedisError) -> Error {
    if is_unavailable(&e) {
        Error::unavailable(e)
    } else {
        Error::internal(format!("state key '{key}': {e}")).with_source(e)
    }
}

impl StateDriver for RedisDriver {
    fn backend(&self) -> &'static str {
        "redis"
    }

    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<String>>> {
        Box::pin(async move {
            redis::cmd("GET")
                .arg(key)
                .query_async(&mut self.conn())
                .await
                .map_err(|e| error(key, e))
        })
    }

    fn set<'a>(
        &'a self,
        key: &'a str,
        value: String,
        ttl: Option<Duration>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let mut cmd = redis::cmd("SET");
            cmd.arg(key).arg(value);
            if let Some(ttl) = ttl {
                cmd.arg("PX").arg(millis(ttl));
            }
            cmd.exec_async(&mut self.conn())
                .await
                .map_err(|e| error(key, e))
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let removed: i64 = redis::cmd("DEL")
                .arg(key)
                .query_async(&mut self.conn())
                .await
                .map_err(|e| error(key, e))?;
            Ok(removed > 0)
        })
    }

    fn incr<'a>(
        &'a self,
        key: &'a str,
        by: i64,
        ttl_on_create: Option<Duration>,
    ) -> BoxFuture<'a, Result<i64>> {
        Box::pin(async move {
            let mut conn = self.conn();
            let outcome = match ttl_on_create {
                None => {
                    redis::cmd("INCRBY")
                        .arg(key)
                        .arg(by)
                        .query_async(&mut conn)
                        .await
                }
                Some(ttl) => redis::pipe()
                    .atomic()
                    .cmd("SET")
                    .arg(key)
                    .arg(0)
                    .arg("PX")
                    .arg(millis(ttl))
                    .arg("NX")
                    .ignore()
                    .cmd("INCRBY")
                    .arg(key)
                    .arg(by)
                    .query_async::<(i64,)>(&mut conn)
                    .await
                    .map(|(value,)| value),
            };
            outcome.map_err(|e| error(key, e))
        })
    }

    fn ttl<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Duration>>> {
        Box::pin(async move {
            let ms: i64 = redis::cmd("PTTL")
                .arg(key)
                .query_async(&mut self.conn())
                .await
                .map_err(|e| error(key, e))?;
            // -2: no such key; -1: no expiry.
            Ok(u64::try_from(ms).ok().map(Duration::from_millis))
        })
    }

    fn ping(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            redis::cmd("PING")
                .query_async::<String>(&mut self.conn())
                .await
                .map(drop)
                .map_err(Error::unavailable)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttls_become_whole_milliseconds_that_redis_accepts() {
        assert_eq!(millis(Duration::ZERO), 1);
        assert_eq!(millis(Duration::from_micros(1500)), 1);
        assert_eq!(millis(Duration::from_secs(900)), 900_000);
        assert_eq!(millis(Duration::MAX), MAX_TTL_MS);
    }

    #[test]
    fn a_refused_connection_is_unavailable_and_a_wrong_type_is_not() {
        let refused = RedisError::from(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert!(is_unavailable(&refused));
        let converted: Error = refused.into();
        assert_eq!(converted.kind(), ErrorKind::Unavailable);

        let wrong = RedisError::from((redis::ErrorKind::UnexpectedReturnType, "not an integer"));
        assert!(!is_unavailable(&wrong));
        assert_eq!(error("k", wrong).kind(), ErrorKind::Internal);
    }
}
