//! The `config` tool: settings from the environment and `.env`, typed and
//! validated at boot.
//!
//! A bad value stops the boot with a message naming the variable and what
//! was expected; a missing one takes its documented default (every variable
//! is listed in `docs/configuration.md`). Secrets are never echoed.

mod backend;
mod setting;
mod tool;

use std::collections::BTreeMap;
use std::sync::Arc;

use microcore::{Error, ToolHandle};

pub use backend::Backend;
pub use setting::{ByteSize, Setting};
pub use tool::EnvConfig;

/// Where the app runs; `production` tightens secrets and system routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    /// The default: generated secrets allowed, system routes public.
    Development,
    /// Secrets must be set, system routes need a token.
    Production,
    /// Like development, for test runs.
    Test,
}

/// Reads configuration: per-app values first, then the process environment
/// (which `.env` filled at boot, without overriding what was already set).
///
/// ```
/// use microcore_config::Config;
///
/// let config = Config::from_pairs([("HTTP_PORT", "8080")]);
/// assert_eq!(config.get::<u16>("HTTP_PORT", 8000).unwrap(), 8080);
/// assert_eq!(config.get::<u16>("NOT_SET_ANYWHERE_X", 8000).unwrap(), 8000);
///
/// let bad = Config::from_pairs([("HTTP_PORT", "eighty")]);
/// let e = bad.get::<u16>("HTTP_PORT", 8000).unwrap_err();
/// assert_eq!(e.to_string(), "HTTP_PORT='eighty' is invalid: expected an integer from 0 to 65535");
/// ```
#[derive(Debug, Clone, Default)]
pub struct Config {
    vars: Arc<BTreeMap<String, String>>,
}

impl ToolHandle for Config {
    const NAME: &'static str = "config";
}

#[microcore::tool(guide = "../AI.md")]
impl Config {
    /// A config reading these values first, then the environment (tests).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            vars: Arc::new(
                pairs
                    .into_iter()
                    .map(|(k, v)| (k.into(), v.into()))
                    .collect(),
            ),
        }
    }

    pub(crate) fn from_vars(vars: Arc<BTreeMap<String, String>>) -> Self {
        Self { vars }
    }

    /// The raw value, if set (an empty value counts as set).
    pub fn raw(&self, name: &str) -> Option<String> {
        self.vars
            .get(name)
            .cloned()
            .or_else(|| std::env::var(name).ok())
    }

    /// A typed value, or `default` when unset.
    ///
    /// # Errors
    /// A configuration error naming the variable when the value does not parse.
    pub fn get<T: Setting>(&self, name: &str, default: T) -> Result<T, Error> {
        self.get_with(name, T::EXPECTED, default, T::parse)
    }

    /// Like [`Config::get`] with a parser of your own; `expected` completes
    /// "… is invalid: expected …".
    ///
    /// # Errors
    /// A configuration error naming the variable when `parse` returns `None`.
    pub fn get_with<T>(
        &self,
        name: &str,
        expected: &str,
        default: T,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Result<T, Error> {
        match self.raw(name) {
            None => Ok(default),
            Some(raw) => parse(raw.trim()).ok_or_else(|| invalid(name, &raw, expected)),
        }
    }

    /// A secret: like [`Config::get`] for strings, but never echoed in errors.
    pub fn secret(&self, name: &str) -> Option<String> {
        self.raw(name).filter(|v| !v.is_empty())
    }

    /// `APP_ENV`.
    ///
    /// # Errors
    /// When `APP_ENV` is not `development`, `production` or `test`.
    pub fn app_env(&self) -> Result<AppEnv, Error> {
        self.get_with(
            "APP_ENV",
            "one of development, production, test",
            AppEnv::Development,
            |v| match v {
                "development" | "dev" => Some(AppEnv::Development),
                "production" | "prod" => Some(AppEnv::Production),
                "test" => Some(AppEnv::Test),
                _ => None,
            },
        )
    }
}

fn invalid(name: &str, raw: &str, expected: &str) -> Error {
    let shown: String = raw.chars().take(64).collect();
    Error::config(format!("{name}='{shown}' is invalid: expected {expected}"))
}
