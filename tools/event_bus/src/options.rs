//! The bus's settings: which driver, and the retry policy.
//!
//! Read once at setup from the `EVENT_BUS_*` variables (documented in
//! `docs/event-bus.md` and `docs/configuration.md`); tests build
//! [`BusOptions`] directly.

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

/// Everything the tool reads from configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusSettings {
    /// `EVENT_BUS_URL`: `memory://` (default) or `sqlite://<path>`.
    pub url: String,
    /// `EVENT_BUS_MAX_ATTEMPTS`, `EVENT_BUS_RETRY_DELAY`, `EVENT_BUS_RETRY_MAX_DELAY`.
    pub options: BusOptions,
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
        Ok(Self {
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
