//! Who may read the system routes, shared by every plugin of the domain.
//!
//! `SYSTEM_ROUTES` says it: `public` (the default in development), `token`
//! (the default in production: a valid bearer token, as any protected
//! route wants it) or `off` (the routes are not served). `/system/health`
//! and `/system/ready` are public whatever the setting: orchestrators
//! probe them without credentials.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use microcore_auth::AuthUser;
use microcore_config::AppEnv;

use crate::prelude::*;

/// The `SYSTEM_ROUTES` setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone may read them.
    Public,
    /// Callers need a valid token.
    Token,
    /// Not served (health and readiness excepted).
    Off,
}

impl Access {
    /// `SYSTEM_ROUTES`, defaulting to `token` in production and `public`
    /// elsewhere.
    ///
    /// ```
    /// use domains::prelude::*;
    /// use domains::system::models::Access;
    ///
    /// let production = Config::from_pairs([("APP_ENV", "production")]);
    /// assert_eq!(Access::from_config(&production).unwrap(), Access::Token);
    /// let off = Config::from_pairs([("SYSTEM_ROUTES", "off")]);
    /// assert_eq!(Access::from_config(&off).unwrap(), Access::Off);
    /// let bad = Config::from_pairs([("SYSTEM_ROUTES", "open")]);
    /// assert!(Access::from_config(&bad).unwrap_err().to_string().starts_with("SYSTEM_ROUTES='open' is invalid"));
    /// ```
    ///
    /// # Errors
    /// A configuration error naming `SYSTEM_ROUTES` or `APP_ENV`.
    pub fn from_config(config: &Config) -> Result<Self> {
        let default = match config.app_env()? {
            AppEnv::Production => Self::Token,
            AppEnv::Development | AppEnv::Test => Self::Public,
        };
        config.get_with(
            "SYSTEM_ROUTES",
            "one of public, token, off",
            default,
            |v| match v {
                "public" => Some(Self::Public),
                "token" => Some(Self::Token),
                "off" => Some(Self::Off),
                _ => None,
            },
        )
    }

    /// Whether the guarded routes are served at all.
    pub fn serves(self) -> bool {
        self != Self::Off
    }

    /// Lets `caller` through, or answers 401 (`Missing authorization
    /// token`, `Invalid or expired token`) when a token is required.
    ///
    /// # Errors
    /// The caller's authentication error, in `token` mode.
    pub fn allow(self, caller: Caller) -> Result<()> {
        match (self, caller.0) {
            (Self::Public, _) | (Self::Token, Ok(_)) => Ok(()),
            (Self::Token | Self::Off, Err(e)) => Err(e),
            (Self::Off, Ok(_)) => Err(Error::not_found("Not found")),
        }
    }
}

/// The caller of a system route, logged in or not: [`Access::allow`]
/// decides. Extracting it never fails the request by itself.
#[derive(Debug)]
pub struct Caller(Result<AuthUser, Error>);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Infallible> {
        let user = <AuthUser as FromRequestParts<S>>::from_request_parts(parts, state).await;
        Ok(Self(user.map_err(Error::from)))
    }
}

/// Whether a token is needed depends on `SYSTEM_ROUTES`, known only at boot.
impl microcore_http::ApiArg for Caller {
    fn describe(doc: &mut microcore_http::OperationDoc) {
        doc.requires("SYSTEM_ROUTES");
    }
}

/// What every system plugin keeps: the access rule read at boot.
#[derive(Debug, Default)]
pub struct Policy(std::sync::OnceLock<Access>);

impl Policy {
    /// Reads `SYSTEM_ROUTES` once, at the plugin's boot.
    ///
    /// # Errors
    /// As [`Access::from_config`].
    pub fn load(&self, config: &Config) -> Result<Access> {
        let access = Access::from_config(config)?;
        let _ = self.0.set(access);
        Ok(access)
    }

    /// Lets `caller` through per the rule read at boot (closed until then).
    ///
    /// # Errors
    /// 401 when a token is required and missing or bad.
    pub fn allow(&self, caller: Caller) -> Result<()> {
        self.0.get().copied().unwrap_or(Access::Token).allow(caller)
    }
}

/// Serves `GET path` with `answer(plugin, caller)`: the raw routes of the
/// domain (the SSE streams and `/metrics`), which answer something other
/// than the JSON envelope and are governed by `SYSTEM_ROUTES`.
pub fn raw_get<P: Send + Sync + 'static>(
    http: &Http,
    path: &str,
    plugin: &Arc<P>,
    answer: fn(&P, Caller) -> axum::response::Response,
) {
    let plugin = plugin.clone();
    http.route(
        axum::http::Method::GET,
        path,
        axum::routing::get(move |caller: Caller| {
            let plugin = plugin.clone();
            async move { answer(&plugin, caller) }
        }),
    )
    .requires("SYSTEM_ROUTES");
}
