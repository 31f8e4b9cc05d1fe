//! The scheduler's settings, read and checked at boot, so a typo in
//! `SCHEDULER_MAX_ATTEMPTS` stops the boot with a message instead of
//! silently retrying forever.

use std::time::Duration;

use microcore::Error;
use microcore_config::Config;

/// How often the scheduler looks for due jobs, how it retries, and how long
/// a claim lasts.
///
/// ```
/// use std::time::Duration;
/// use microcore_config::Config;
/// use microcore_scheduler::SchedulerSettings;
///
/// let settings = SchedulerSettings::from_config(&Config::from_pairs([
///     ("SCHEDULER_POLL_SECS", "0.5"),
///     ("SCHEDULER_MAX_ATTEMPTS", "5"),
/// ]))
/// .unwrap();
/// assert_eq!(settings.poll, Duration::from_millis(500));
/// assert_eq!(settings.max_attempts, 5);
///
/// let bad = SchedulerSettings::from_config(&Config::from_pairs([("SCHEDULER_MAX_ATTEMPTS", "0")]));
/// assert_eq!(
///     bad.unwrap_err().to_string(),
///     "SCHEDULER_MAX_ATTEMPTS='0' is invalid: expected an integer from 1 to 100"
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchedulerSettings {
    /// `SCHEDULER_POLL_SECS` (default 1): how often the database is asked
    /// for due one-shot jobs and retries, so at most this late. Cron fires
    /// do not wait for it: each replica wakes at the fire time itself.
    pub poll: Duration,
    /// `SCHEDULER_MAX_ATTEMPTS` (default 3): runs of one fire before it is
    /// marked `failed` (1 = no retry).
    pub max_attempts: u32,
    /// `SCHEDULER_RETRY_BACKOFF_SECS` (default 1): the wait before the first
    /// retry; it doubles with each further attempt, up to one hour.
    pub backoff: Duration,
    /// `SCHEDULER_LEASE_SECS` (default 60): how long a claim holds without
    /// news from its runner. A running job renews it every third of that;
    /// when a replica dies mid-run, another one runs the job again once
    /// the lease has run out.
    pub lease: Duration,
}

/// The longest wait between two attempts, however many there were.
pub(crate) const MAX_BACKOFF: Duration = Duration::from_secs(3600);

impl Default for SchedulerSettings {
    fn default() -> Self {
        Self {
            poll: Duration::from_secs(1),
            max_attempts: 3,
            backoff: Duration::from_secs(1),
            lease: Duration::from_secs(60),
        }
    }
}

impl SchedulerSettings {
    /// Reads `SCHEDULER_POLL_SECS`, `SCHEDULER_MAX_ATTEMPTS`,
    /// `SCHEDULER_RETRY_BACKOFF_SECS` and `SCHEDULER_LEASE_SECS`.
    ///
    /// # Errors
    /// A configuration error naming the variable and what it expects.
    pub fn from_config(config: &Config) -> Result<Self, Error> {
        let defaults = Self::default();
        let seconds = |name: &str, default: Duration, min: f64, max: f64| {
            let expected = format!("a number of seconds from {min} to {max}, such as 1 or 0.5");
            config.get_with(name, &expected, default, |v| {
                v.parse::<f64>()
                    .ok()
                    .filter(|s| s.is_finite() && (min..=max).contains(s))
                    .map(Duration::from_secs_f64)
            })
        };
        Ok(Self {
            poll: seconds("SCHEDULER_POLL_SECS", defaults.poll, 0.01, 3600.0)?,
            max_attempts: config.get_with(
                "SCHEDULER_MAX_ATTEMPTS",
                "an integer from 1 to 100",
                defaults.max_attempts,
                |v| v.parse::<u32>().ok().filter(|n| (1..=100).contains(n)),
            )?,
            backoff: seconds(
                "SCHEDULER_RETRY_BACKOFF_SECS",
                defaults.backoff,
                0.0,
                3600.0,
            )?,
            lease: seconds("SCHEDULER_LEASE_SECS", defaults.lease, 1.0, 86_400.0)?,
        })
    }

    /// The wait before attempt `attempt + 1`, after attempt `attempt` failed:
    /// `backoff · 2^(attempt − 1)`, at most one hour.
    ///
    /// ```
    /// use std::time::Duration;
    /// use microcore_scheduler::SchedulerSettings;
    ///
    /// let s = SchedulerSettings { backoff: Duration::from_secs(2), ..Default::default() };
    /// assert_eq!(s.backoff_after(1), Duration::from_secs(2));
    /// assert_eq!(s.backoff_after(3), Duration::from_secs(8));
    /// assert_eq!(s.backoff_after(40), Duration::from_secs(3600));
    /// ```
    pub fn backoff_after(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(31);
        self.backoff
            .checked_mul(1 << doublings)
            .unwrap_or(MAX_BACKOFF)
            .min(MAX_BACKOFF)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_bad_values() {
        let s = SchedulerSettings::from_config(&Config::from_pairs::<&str, &str>([])).unwrap();
        assert_eq!(s, SchedulerSettings::default());
        let e =
            SchedulerSettings::from_config(&Config::from_pairs([("SCHEDULER_POLL_SECS", "soon")]))
                .unwrap_err();
        assert_eq!(e.kind(), microcore::ErrorKind::Config);
        assert!(
            e.to_string()
                .starts_with("SCHEDULER_POLL_SECS='soon' is invalid"),
            "{e}"
        );
        let e =
            SchedulerSettings::from_config(&Config::from_pairs([("SCHEDULER_LEASE_SECS", "0")]))
                .unwrap_err();
        assert!(e.to_string().contains("SCHEDULER_LEASE_SECS"), "{e}");
    }
}
