//! The db tool's settings, read and checked at boot, so a typo in
//! `DATABASE_URL` stops the boot with a message instead of failing the first
//! request.

use std::time::Duration;

use microcore::Error;
use microcore_config::{Backend, Config};
use sea_orm::DbBackend;

/// The default `DATABASE_URL`: a SQLite file in the working directory,
/// created when missing.
pub const DEFAULT_URL: &str = "sqlite://microcore.db?mode=rwc";

/// Where the database is and how the pool behaves.
///
/// ```
/// use microcore_config::Config;
/// use microcore_db::DbSettings;
///
/// let settings = DbSettings::from_config(&Config::from_pairs([
///     ("DATABASE_URL", "postgres://app:s3cret@db.internal/app"),
///     ("DB_POOL_MAX", "20"),
/// ]))
/// .unwrap();
/// assert_eq!(settings.pool_max, 20);
/// assert_eq!(settings.masked_url(), "postgres://app:***@db.internal/app");
///
/// let bad = DbSettings::from_config(&Config::from_pairs([("DATABASE_URL", "mysql://x")]));
/// assert!(bad.unwrap_err().to_string().starts_with("DATABASE_URL='mysql://x' is invalid"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct DbSettings {
    /// `DATABASE_URL` (default [`DEFAULT_URL`]). May hold a password: show
    /// [`DbSettings::masked_url`] instead.
    pub url: String,
    /// `DB_POOL_MAX` (default 10). An in-memory SQLite database always uses
    /// one connection, so that every query sees the same database.
    pub pool_max: u32,
    /// `DB_CONNECT_TIMEOUT_SECS` (default 5): how long the boot waits for the
    /// first connection.
    pub connect_timeout: Duration,
    /// `DB_ACQUIRE_TIMEOUT_SECS` (default 5): how long a query waits for a
    /// pooled connection before answering 503; short, so a lost database
    /// does not hang requests.
    pub acquire_timeout: Duration,
    /// `DB_AUTO_MIGRATE` (default true): apply pending migrations at boot.
    pub auto_migrate: bool,
}

impl std::fmt::Debug for DbSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbSettings")
            .field("url", &self.masked_url())
            .field("pool_max", &self.pool_max)
            .field("connect_timeout", &self.connect_timeout)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("auto_migrate", &self.auto_migrate)
            .finish()
    }
}

impl Default for DbSettings {
    fn default() -> Self {
        Self::for_url(DEFAULT_URL)
    }
}

impl DbSettings {
    /// The defaults, with another URL (tests, tools).
    ///
    /// ```
    /// let s = microcore_db::DbSettings::for_url("sqlite::memory:");
    /// assert!(s.is_memory());
    /// ```
    pub fn for_url(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            pool_max: 10,
            connect_timeout: Duration::from_secs(5),
            acquire_timeout: Duration::from_secs(5),
            auto_migrate: true,
        }
    }

    /// Reads `DATABASE_URL`, `DB_POOL_MAX`, `DB_CONNECT_TIMEOUT_SECS`,
    /// `DB_ACQUIRE_TIMEOUT_SECS` and `DB_AUTO_MIGRATE`.
    ///
    /// # Errors
    /// A configuration error naming the variable: an unknown URL scheme, a
    /// pool size of 0, a timeout that is not a number of seconds.
    pub fn from_config(config: &Config) -> Result<Self, Error> {
        let url = config
            .raw("DATABASE_URL")
            .map(|u| u.trim().to_string())
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| DEFAULT_URL.to_string());
        let shown = || -> String { mask_url(&url).chars().take(80).collect() };
        match backend_of(&url) {
            None => {
                return Err(Error::config(format!(
                    "DATABASE_URL='{}' is invalid: expected sqlite://<file>, sqlite::memory: or postgres://<user>@<host>/<database>",
                    shown()
                )));
            }
            Some(DbBackend::Postgres) if !cfg!(feature = "postgres") => {
                return Err(POSTGRES.compiled_out("DATABASE_URL", &shown()));
            }
            Some(_) => {}
        }
        let pool_max = config.get_with("DB_POOL_MAX", "an integer from 1 to 10000", 10, |v| {
            v.parse::<u32>().ok().filter(|n| (1..=10_000).contains(n))
        })?;
        let seconds = |name: &str| {
            config.get_with(
                name,
                "a number of seconds above 0, such as 5 or 0.5",
                Duration::from_secs(5),
                |v| {
                    v.parse::<f64>()
                        .ok()
                        .filter(|s| s.is_finite() && *s > 0.0 && *s <= 3600.0)
                        .map(Duration::from_secs_f64)
                },
            )
        };
        Ok(Self {
            url,
            pool_max,
            connect_timeout: seconds("DB_CONNECT_TIMEOUT_SECS")?,
            acquire_timeout: seconds("DB_ACQUIRE_TIMEOUT_SECS")?,
            auto_migrate: config.get("DB_AUTO_MIGRATE", true)?,
        })
    }

    /// SQLite or PostgreSQL, from the URL's scheme.
    pub fn backend(&self) -> DbBackend {
        backend_of(&self.url).unwrap_or(DbBackend::Sqlite)
    }

    /// Whether this is a SQLite database living in memory only.
    pub fn is_memory(&self) -> bool {
        self.backend() == DbBackend::Sqlite
            && (self.url.contains(":memory:") || self.url.contains("mode=memory"))
    }

    /// The URL with its password replaced by `***`, for messages and logs.
    pub fn masked_url(&self) -> String {
        mask_url(&self.url)
    }
}

/// PostgreSQL support: sqlx's driver and its TLS stack, opt-in.
const POSTGRES: Backend = Backend {
    name: "PostgreSQL",
    krate: "microcore-db",
    feature: "postgres",
};

fn backend_of(url: &str) -> Option<DbBackend> {
    if url.starts_with("sqlite:") {
        Some(DbBackend::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Some(DbBackend::Postgres)
    } else {
        None
    }
}

/// Replaces the password of a URL (`user:password@`, or a `password=`
/// query parameter) with `***`.
///
/// ```
/// use microcore_db::mask_url;
/// assert_eq!(mask_url("postgres://u:p@h:5432/d"), "postgres://u:***@h:5432/d");
/// assert_eq!(mask_url("postgres://h/d?user=u&password=p"), "postgres://h/d?user=u&password=***");
/// assert_eq!(mask_url("sqlite://app.db?mode=rwc"), "sqlite://app.db?mode=rwc");
/// ```
pub fn mask_url(url: &str) -> String {
    let mut out = url.to_string();
    if let Some(scheme_end) = out.find("://") {
        let start = scheme_end + 3;
        let end = out[start..]
            .find(['/', '?', '#'])
            .map_or(out.len(), |i| start + i);
        if let Some(at) = out[start..end].rfind('@') {
            let userinfo = &out[start..start + at];
            if let Some(colon) = userinfo.find(':') {
                out.replace_range(start + colon + 1..start + at, "***");
            }
        }
    }
    if let Some(query_start) = out.find('?') {
        let (head, query) = out.split_at(query_start + 1);
        let masked: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                _ => pair.to_string(),
            })
            .collect();
        out = format!("{head}{}", masked.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_passwords_and_keeps_the_rest() {
        assert_eq!(
            mask_url("postgresql://user:p%40ss:w@host/db?sslmode=disable"),
            "postgresql://user:***@host/db?sslmode=disable"
        );
        assert_eq!(
            mask_url("postgres://user@host/db"),
            "postgres://user@host/db"
        );
        assert_eq!(mask_url("sqlite::memory:"), "sqlite::memory:");
    }

    #[test]
    fn defaults_and_bad_values() {
        let s =
            DbSettings::from_config(&Config::from_pairs([("DB_AUTO_MIGRATE", "false")])).unwrap();
        assert_eq!(s.url, DEFAULT_URL);
        assert!(!s.auto_migrate);
        let e = DbSettings::from_config(&Config::from_pairs([("DB_POOL_MAX", "0")])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "DB_POOL_MAX='0' is invalid: expected an integer from 1 to 10000"
        );
        let e = DbSettings::from_config(&Config::from_pairs([(
            "DATABASE_URL",
            "mysql://root:hunter2@x/y",
        )]))
        .unwrap_err();
        assert!(e.to_string().contains("mysql://root:***@x/y"), "{e}");
        assert!(!e.to_string().contains("hunter2"));
        assert_eq!(e.kind(), microcore::ErrorKind::Config);
    }
}
