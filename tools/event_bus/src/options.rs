//! The bus's settings: which driver, how a shared broker is used, and the
//! retry policy.
//!
//! Read once at setup from the `EVENT_BUS_*` variables (documented in
//! `docs/event-bus.md` and `docs/configuration.md`); tests build
//! [`BusOptions`] and [`DriverOptions`] directly.

use std::time::Duration;

use microcore::{Error, Result};
use microcore_config::Config;

/// How a failing handler is retried.
///
/// ```
/// use std::time::Duration;
/// use microcore_event_bus::BusOptions;
///
/// let o = BusOptions { retry_delay: Duration::from_millis(100), ..BusOptions::default() };
/// assert_eq!(o.max_attempts, 5);
/// assert_eq!(o.backoff(1), Duration::from_millis(100));
/// assert_eq!(o.backoff(3), Duration::from_millis(400));
/// assert_eq!(o.backoff(60), o.max_retry_delay);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusOptions {
    /// Deliveries tried before an event becomes a dead letter (at least 1).
    pub max_attempts: u32,
    /// The wait after the first failure; doubled after each next one.
    pub retry_delay: Duration,
    /// The longest wait between two attempts.
    pub max_retry_delay: Duration,
}

impl Default for BusOptions {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            retry_delay: Duration::from_millis(200),
            max_retry_delay: Duration::from_secs(30),
        }
    }
}

impl BusOptions {
    /// The wait before the attempt after failed attempt `attempt` (1-based):
    /// `retry_delay * 2^(attempt-1)`, at most `max_retry_delay`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(31));
        self.retry_delay
            .checked_mul(factor)
            .map_or(self.max_retry_delay, |d| d.min(self.max_retry_delay))
    }
}

/// How a driver on a shared broker (Redis Streams, NATS JetStream) names
/// what it creates and hands work over between replicas. The in-process
/// and SQLite drivers ignore it.
///
/// ```
/// use std::time::Duration;
/// use microcore_event_bus::DriverOptions;
///
/// let o = DriverOptions::default();
/// assert_eq!(o.prefix, "microcore");
/// assert_eq!(o.claim_after, Duration::from_secs(30));
/// assert!(DriverOptions::valid_prefix("billing_v2"));
/// assert!(!DriverOptions::valid_prefix("my.app"), "a dot would split NATS subjects");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriverOptions {
    /// `EVENT_BUS_PREFIX`: the namespace of every key, stream and subject
    /// the driver creates, so several apps (or test runs) share one broker
    /// without seeing each other's events. Letters, digits, `_` and `-`.
    pub prefix: String,
    /// `EVENT_BUS_CLAIM_AFTER`: how long a delivery may stay unacknowledged
    /// by a consumer that shows no sign of life before another consumer of
    /// its group takes it over. Live consumers renew their claim every
    /// third of it, so a slow handler is never taken over; a killed
    /// replica's events move to the others after about this long.
    pub claim_after: Duration,
}

impl Default for DriverOptions {
    fn default() -> Self {
        Self {
            prefix: "microcore".into(),
            claim_after: Duration::from_secs(30),
        }
    }
}

/// What `EVENT_BUS_PREFIX` accepts, for error messages.
pub(crate) const PREFIX_RULE: &str = "1 to 64 letters, digits, '_' or '-'";

impl DriverOptions {
    /// Whether `prefix` can name Redis keys, NATS streams and NATS subject
    /// tokens alike: 1 to 64 ASCII letters, digits, `_` or `-`.
    pub fn valid_prefix(prefix: &str) -> bool {
        (1..=64).contains(&prefix.len())
            && prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    }

    /// Checks the prefix and the claim timeout.
    ///
    /// # Errors
    /// A configuration error naming `EVENT_BUS_PREFIX` or
    /// `EVENT_BUS_CLAIM_AFTER`.
    pub fn check(&self) -> Result<()> {
        if !Self::valid_prefix(&self.prefix) {
            let shown: String = self.prefix.chars().take(80).collect();
            return Err(Error::config(format!(
                "EVENT_BUS_PREFIX='{shown}' is invalid: expected {PREFIX_RULE}"
            )));
        }
        if self.claim_after < MIN_CLAIM_AFTER {
            return Err(Error::config(format!(
                "EVENT_BUS_CLAIM_AFTER='{}' is invalid: expected at least {} s",
                self.claim_after.as_secs_f64(),
                MIN_CLAIM_AFTER.as_secs_f64()
            )));
        }
        Ok(())
    }
}

/// Below this, renewing claims would cost more than handling events.
const MIN_CLAIM_AFTER: Duration = Duration::from_millis(300);

/// Everything the tool reads from configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusSettings {
    /// `EVENT_BUS_URL`: `memory://` (default), `sqlite://<path>`,
    /// `redis://host:port[/db]` or `nats://host:port`.
    pub url: String,
    /// `EVENT_BUS_MAX_ATTEMPTS`, `EVENT_BUS_RETRY_DELAY`, `EVENT_BUS_RETRY_MAX_DELAY`.
    pub options: BusOptions,
    /// `EVENT_BUS_PREFIX`, `EVENT_BUS_CLAIM_AFTER` (Redis and NATS only).
    pub driver: DriverOptions,
}

impl BusSettings {
    /// Reads and checks every `EVENT_BUS_*` variable.
    ///
    /// ```
    /// use microcore_config::Config;
    /// use microcore_event_bus::BusSettings;
    ///
    /// let s = BusSettings::from_config(&Config::from_pairs([("EVENT_BUS_MAX_ATTEMPTS", "3")])).unwrap();
    /// assert_eq!(s.options.max_attempts, 3);
    /// let bad = BusSettings::from_config(&Config::from_pairs([("EVENT_BUS_MAX_ATTEMPTS", "0")]));
    /// assert!(bad.unwrap_err().to_string().contains("EVENT_BUS_MAX_ATTEMPTS"));
    /// let bad = BusSettings::from_config(&Config::from_pairs([("EVENT_BUS_PREFIX", "a.b")]));
    /// assert!(bad.unwrap_err().to_string().starts_with("EVENT_BUS_PREFIX='a.b' is invalid"));
    /// ```
    ///
    /// # Errors
    /// A configuration error naming the first bad variable.
    pub fn from_config(config: &Config) -> Result<Self> {
        let defaults = BusOptions::default();
        let url: String = config.get("EVENT_BUS_URL", "memory://".to_string())?;
        let max_attempts = config.get_with(
            "EVENT_BUS_MAX_ATTEMPTS",
            "an integer from 1 to 1000",
            defaults.max_attempts,
            |v| v.parse().ok().filter(|n| (1..=1000).contains(n)),
        )?;
        let retry_delay = config.get("EVENT_BUS_RETRY_DELAY", defaults.retry_delay)?;
        let max_retry_delay = config.get("EVENT_BUS_RETRY_MAX_DELAY", defaults.max_retry_delay)?;
        if max_retry_delay < retry_delay {
            return Err(Error::config(format!(
                "EVENT_BUS_RETRY_MAX_DELAY='{}' is invalid: expected at least EVENT_BUS_RETRY_DELAY ({} s)",
                max_retry_delay.as_secs_f64(),
                retry_delay.as_secs_f64()
            )));
        }
        let driver = DriverOptions {
            prefix: config.get("EVENT_BUS_PREFIX", "microcore".to_string())?,
            claim_after: config.get(
                "EVENT_BUS_CLAIM_AFTER",
                DriverOptions::default().claim_after,
            )?,
        };
        driver.check()?;
        Ok(Self {
            driver,
            url: if url.trim().is_empty() {
                "memory://".into()
            } else {
                url
            },
            options: BusOptions {
                max_attempts,
                retry_delay,
                max_retry_delay,
            },
        })
    }
}
