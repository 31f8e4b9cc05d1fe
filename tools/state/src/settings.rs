//! `STATE_URL` and `STATE_PREFIX`, read and checked before anything connects,
//! so a typo stops the boot with the variable's name instead of surfacing
//! as a connection error later.

use microcore::{Error, Result};
#[cfg(not(feature = "redis"))]
use microcore_config::Backend;
use microcore_config::Config;

/// What `STATE_URL` means when it is not set (or set to nothing).
pub const DEFAULT_URL: &str = "memory://";
/// What `STATE_PREFIX` means when it is not set.
pub const DEFAULT_PREFIX: &str = "microcore:";
pub use crate::memory::DEFAULT_MAX_KEYS;

/// The Redis backend: the `redis` crate, opt-in.
#[cfg(not(feature = "redis"))]
pub(crate) const REDIS: Backend = Backend {
    name: "Redis",
    krate: "microcore-state",
    feature: "redis",
};

const EXPECTED: &str = "memory:// or redis://host:port[/db]";

/// Which backend holds the state.
#[derive(Clone, PartialEq, Eq)]
pub enum StateUrl {
    /// `memory://`: in this process, lost at exit, not shared by replicas.
    Memory,
    /// `redis://…`: the URL as given (it may hold a password: print it with
    /// [`StateUrl::redacted`]).
    Redis(String),
}

impl StateUrl {
    /// Parses a `STATE_URL` value; an empty one is the default, `memory://`.
    ///
    /// ```
    /// use microcore_state::StateUrl;
    ///
    /// assert_eq!(StateUrl::parse("").unwrap(), StateUrl::Memory);
    /// assert!(matches!(StateUrl::parse("redis://127.0.0.1:6379/2").unwrap(), StateUrl::Redis(_)));
    /// let e = StateUrl::parse("postgres://localhost").unwrap_err();
    /// assert_eq!(
    ///     e.to_string(),
    ///     "STATE_URL='postgres://localhost' is invalid: expected memory:// or redis://host:port[/db]"
    /// );
    /// ```
    ///
    /// # Errors
    /// A configuration error naming `STATE_URL` (the password, if any, masked).
    pub fn parse(raw: &str) -> Result<Self> {
        let url = raw.trim();
        if url.is_empty() || url == DEFAULT_URL {
            return Ok(Self::Memory);
        }
        let invalid = |why: &str| {
            let shown: String = redact(url).chars().take(80).collect();
            Error::config(format!(
                "STATE_URL='{shown}' is invalid: expected {EXPECTED}{why}"
            ))
        };
        let scheme = url.split_once("://").map(|(scheme, _)| scheme);
        match scheme {
            // Without the client compiled in, say which feature builds it.
            #[cfg(not(feature = "redis"))]
            Some("redis") => Err(REDIS.compiled_out("STATE_URL", &redact(url))),
            #[cfg(feature = "redis")]
            Some("redis") => match redis::Client::open(url) {
                Ok(_) => Ok(Self::Redis(url.to_string())),
                Err(e) => Err(invalid(&format!(" ({e})"))),
            },
            Some("rediss") => Err(invalid(" (TLS, rediss://, is not built in)")),
            _ => Err(invalid("")),
        }
    }

    /// The URL for logs and errors, with any password masked.
    ///
    /// ```
    /// use microcore_state::StateUrl;
    ///
    /// let url = StateUrl::parse("redis://app:hunter2@127.0.0.1:6379/0").unwrap();
    /// assert_eq!(url.redacted(), "redis://app:***@127.0.0.1:6379/0");
    /// assert_eq!(StateUrl::Memory.redacted(), "memory://");
    /// ```
    pub fn redacted(&self) -> String {
        match self {
            Self::Memory => DEFAULT_URL.to_string(),
            Self::Redis(url) => redact(url),
        }
    }
}

impl std::fmt::Debug for StateUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Masks the password of `scheme://user:password@host…`; a lone user part
/// is masked whole, since some people put a password there.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url.to_string();
    };
    let (userinfo, host) = (&rest[..at], &rest[at..]);
    let user = match userinfo.split_once(':') {
        Some((user, _)) => format!("{user}:***"),
        None => "***".to_string(),
    };
    format!("{scheme}://{user}{host}")
}

/// The state tool's settings.
///
/// ```
/// use microcore_config::Config;
/// use microcore_state::{StateSettings, StateUrl};
///
/// let settings = StateSettings::from_config(&Config::from_pairs([
///     ("STATE_URL", "redis://127.0.0.1:6379"),
///     ("STATE_PREFIX", "shop:"),
/// ])).unwrap();
/// assert_eq!(settings.url, StateUrl::Redis("redis://127.0.0.1:6379".into()));
/// assert_eq!(settings.prefix, "shop:");
/// assert_eq!(settings.memory_max_keys, microcore_state::DEFAULT_MAX_KEYS);
///
/// let e = StateSettings::from_config(&Config::from_pairs([("STATE_URL", "redis://:x@h:port")]))
///     .unwrap_err();
/// assert!(e.to_string().starts_with("STATE_URL='redis://:***@h:port' is invalid"), "{e}");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateSettings {
    /// `STATE_URL`: the backend.
    pub url: StateUrl,
    /// `STATE_PREFIX` (default `microcore:`): put verbatim before every
    /// key, so apps and tests sharing one Redis do not collide. Include your
    /// own separator (`shop:`).
    pub prefix: String,
    /// `STATE_MEMORY_MAX_KEYS` (default [`DEFAULT_MAX_KEYS`]): the most keys
    /// `memory://` keeps; a new key past it evicts one that expires soonest.
    pub memory_max_keys: usize,
}

impl Default for StateSettings {
    /// `memory://`, prefix `microcore:`, at most [`DEFAULT_MAX_KEYS`] keys.
    fn default() -> Self {
        Self {
            url: StateUrl::Memory,
            prefix: DEFAULT_PREFIX.to_string(),
            memory_max_keys: DEFAULT_MAX_KEYS,
        }
    }
}

impl StateSettings {
    /// Reads `STATE_URL`, `STATE_PREFIX` and `STATE_MEMORY_MAX_KEYS`.
    ///
    /// ```
    /// use microcore_config::Config;
    /// use microcore_state::StateSettings;
    ///
    /// let e = StateSettings::from_config(&Config::from_pairs([("STATE_MEMORY_MAX_KEYS", "0")]))
    ///     .unwrap_err();
    /// assert!(e.to_string().starts_with("STATE_MEMORY_MAX_KEYS='0' is invalid"), "{e}");
    /// ```
    ///
    /// # Errors
    /// A configuration error naming the variable when `STATE_URL` is not a
    /// URL this tool can use or `STATE_MEMORY_MAX_KEYS` is not a count of
    /// at least 1.
    pub fn from_config(config: &Config) -> Result<Self> {
        let url = StateUrl::parse(&config.raw("STATE_URL").unwrap_or_default())?;
        let prefix = config.get::<String>("STATE_PREFIX", DEFAULT_PREFIX.to_string())?;
        let memory_max_keys = config.get_with(
            "STATE_MEMORY_MAX_KEYS",
            "a whole number of keys of at least 1, such as 100000",
            DEFAULT_MAX_KEYS,
            |raw| raw.parse::<usize>().ok().filter(|n| *n >= 1),
        )?;
        Ok(Self {
            url,
            prefix,
            memory_max_keys,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        assert_eq!(redact("redis://:pw@h:1/0"), "redis://:***@h:1/0");
        assert_eq!(redact("redis://pw@h"), "redis://***@h");
        assert_eq!(redact("redis://h:1/0?x=a@b"), "redis://h:1/0?x=a@b");
        assert_eq!(redact("not a url"), "not a url");
        let e = StateUrl::parse("rediss://u:secret@h:1").unwrap_err();
        assert!(!e.to_string().contains("secret"), "{e}");
        let e = StateUrl::parse("redis://u:secret@h:notaport").unwrap_err();
        assert!(!e.to_string().contains("secret"), "{e}");
    }

    #[test]
    fn unknown_schemes_and_bad_redis_urls_name_the_variable() {
        for bad in [
            "memory",
            "memory://x",
            "ftp://h",
            "localhost:6379",
            "redis://h:99999",
        ] {
            let e = StateUrl::parse(bad).unwrap_err();
            assert_eq!(e.kind(), microcore::ErrorKind::Config);
            assert!(e.to_string().starts_with("STATE_URL='"), "{e}");
        }
    }
}
