//! The auth tool's settings, read and checked once at boot so a weak or
//! missing key stops the app before it serves a single request.

use std::time::Duration;

use microcore::Error;
use microcore_config::{AppEnv, Config};

use crate::HashLimits;
use crate::handle::{DEFAULT_TOKEN_TTL, MIN_KEY_LEN};

/// `AUTH_SECRET_KEY`, `AUTH_TOKEN_TTL_SECS` and `AUTH_HASH_*`, as read
/// from configuration.
pub(crate) struct AuthSettings {
    pub(crate) key: Vec<u8>,
    pub(crate) ttl: Duration,
    pub(crate) hashing: HashLimits,
}

impl AuthSettings {
    /// Reads the settings; the key's length is checked by `Auth::new`.
    pub(crate) fn read(config: &Config) -> Result<Self, Error> {
        let env = config.app_env()?;
        let ttl = config.get_with(
            "AUTH_TOKEN_TTL_SECS",
            "a whole number of seconds of at least 1",
            DEFAULT_TOKEN_TTL,
            |v| {
                v.parse::<u64>()
                    .ok()
                    .filter(|s| *s > 0)
                    .map(Duration::from_secs)
            },
        )?;
        let key = match (config.secret("AUTH_SECRET_KEY"), env) {
            (Some(key), _) => key.into_bytes(),
            (None, AppEnv::Production) => {
                return Err(Error::config(format!(
                    "AUTH_SECRET_KEY must be set when APP_ENV=production: \
                     set it to at least {MIN_KEY_LEN} random bytes (e.g. `openssl rand -hex 32`)"
                )));
            }
            (None, _) => {
                let key = random_key()?;
                tracing::warn!(
                    "AUTH_SECRET_KEY is not set: using a random key generated for this process only. \
                     Every token dies when the process stops, and replicas reject each other's tokens. \
                     Set AUTH_SECRET_KEY (at least {MIN_KEY_LEN} bytes, e.g. `openssl rand -hex 32`); \
                     APP_ENV=production refuses to boot without it"
                );
                key
            }
        };
        Ok(Self {
            key,
            ttl,
            hashing: hash_limits(config)?,
        })
    }
}

/// `AUTH_HASH_CONCURRENCY`, `AUTH_HASH_QUEUE`, `AUTH_HASH_WAIT_MS`; the
/// queue's default follows the concurrency chosen.
fn hash_limits(config: &Config) -> Result<HashLimits, Error> {
    let defaults = HashLimits::default();
    let concurrency = config.get_with(
        "AUTH_HASH_CONCURRENCY",
        "a whole number of at least 1",
        defaults.concurrency,
        |v| v.parse::<usize>().ok().filter(|n| *n > 0),
    )?;
    let queue = config.get_with(
        "AUTH_HASH_QUEUE",
        "a whole number (0: no waiting, turn away at once)",
        HashLimits::default_queue(concurrency),
        |v| v.parse::<usize>().ok(),
    )?;
    let wait = config.get_with(
        "AUTH_HASH_WAIT_MS",
        "a whole number of milliseconds",
        defaults.wait,
        |v| v.parse::<u64>().ok().map(Duration::from_millis),
    )?;
    Ok(HashLimits {
        concurrency,
        queue,
        wait,
    })
}

/// 32 bytes from the operating system's secure random source.
fn random_key() -> Result<Vec<u8>, Error> {
    let mut key = Vec::with_capacity(MIN_KEY_LEN);
    while key.len() < MIN_KEY_LEN {
        let chunk = argon2::password_hash::try_generate_salt().map_err(|e| {
            Error::config(format!(
                "AUTH_SECRET_KEY is not set and no random key could be generated ({e}): set AUTH_SECRET_KEY"
            ))
        })?;
        key.extend_from_slice(&chunk);
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_long_enough_and_differ() {
        let (a, b) = (random_key().unwrap(), random_key().unwrap());
        assert!(a.len() >= MIN_KEY_LEN);
        assert_ne!(a, b);
    }

    #[test]
    fn development_without_key_generates_one() {
        let config = Config::from_pairs([("APP_ENV", "development"), ("AUTH_SECRET_KEY", "")]);
        let settings = AuthSettings::read(&config).unwrap();
        assert!(settings.key.len() >= MIN_KEY_LEN);
        assert_eq!(settings.ttl, DEFAULT_TOKEN_TTL);
    }

    #[test]
    fn hash_limits_are_read_and_checked() {
        let config =
            Config::from_pairs([("AUTH_HASH_CONCURRENCY", "3"), ("AUTH_HASH_WAIT_MS", "250")]);
        assert_eq!(
            hash_limits(&config).unwrap(),
            HashLimits {
                concurrency: 3,
                queue: 192,
                wait: Duration::from_millis(250)
            }
        );
        for (name, bad) in [
            ("AUTH_HASH_CONCURRENCY", "0"),
            ("AUTH_HASH_QUEUE", "-1"),
            ("AUTH_HASH_WAIT_MS", "soon"),
        ] {
            let e = hash_limits(&Config::from_pairs([(name, bad)])).unwrap_err();
            assert!(e.to_string().starts_with(&format!("{name}=")), "{e}");
        }
    }

    #[test]
    fn ttl_is_read_and_checked() {
        let key = "k".repeat(32);
        let config = Config::from_pairs([
            ("AUTH_SECRET_KEY", key.as_str()),
            ("AUTH_TOKEN_TTL_SECS", "60"),
        ]);
        assert_eq!(
            AuthSettings::read(&config).unwrap().ttl,
            Duration::from_secs(60)
        );
        for bad in ["0", "-5", "soon"] {
            let config = Config::from_pairs([
                ("AUTH_SECRET_KEY", key.as_str()),
                ("AUTH_TOKEN_TTL_SECS", bad),
            ]);
            let e = AuthSettings::read(&config).err().unwrap();
            assert_eq!(e.kind(), microcore::ErrorKind::Config);
            assert!(e.to_string().starts_with("AUTH_TOKEN_TTL_SECS="), "{e}");
        }
    }
}
