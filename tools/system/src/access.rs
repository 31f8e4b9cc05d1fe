//! Who may read the system routes: one rule, `SYSTEM_ROUTES`, enforced by
//! one guard layer on the handle the system plugins register through.

use axum::extract::{FromRequestParts, Request};
use axum::middleware::{Next, from_fn};
use axum::response::Response;
use microcore::prelude::*;
use microcore_auth::AuthUser;
use microcore_config::{AppEnv, Config};
use microcore_http::Http;

/// The `SYSTEM_ROUTES` setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone may read them.
    Public,
    /// Callers need a valid token, as any protected route wants it.
    Token,
    /// Not served (health and readiness excepted).
    Off,
}

impl Access {
    /// `SYSTEM_ROUTES`, defaulting to `token` in production and `public`
    /// elsewhere.
    ///
    /// ```
    /// use microcore_config::Config;
    /// use microcore_system::Access;
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
}

/// The handle to register system routes through, or `None` when
/// `SYSTEM_ROUTES=off` (the routes are then not served: 404). Every route
/// registered through it passes the guard first: in `token` mode a caller
/// without a valid token gets 401 (`Missing authorization token`,
/// `Invalid or expired token`) before the handler runs.
///
/// ```
/// use microcore_config::Config;
///
/// let http = microcore_http::Http::detached();
/// let off = Config::from_pairs([("SYSTEM_ROUTES", "off")]);
/// assert!(microcore_system::guarded(&http, &off).unwrap().is_none());
/// let token = Config::from_pairs([("SYSTEM_ROUTES", "token")]);
/// let system = microcore_system::guarded(&http, &token).unwrap().unwrap();
/// system.route(axum::http::Method::GET, "/system/x", axum::routing::get(|| async { "" }));
/// assert_eq!(http.routes()[0].auth, Some("SYSTEM_ROUTES"));
/// ```
///
/// # Errors
/// As [`Access::from_config`].
pub fn guarded(http: &Http, config: &Config) -> Result<Option<Http>> {
    let guard = match Access::from_config(config)? {
        Access::Off => return Ok(None),
        // Public routes still say who governs them, for `routes`.
        Access::Public => http.guarded("SYSTEM_ROUTES", |route| route),
        Access::Token => http.guarded("SYSTEM_ROUTES", |route| route.layer(from_fn(token))),
    };
    Ok(Some(guard))
}

/// Lets a request with a valid token through; answers the auth tool's 401
/// envelope otherwise. A browser cannot add a bearer header to a page
/// load, so the dashboard relies on the `access_token` cookie that
/// `POST /auth/login` sets, which the extractor also reads.
async fn token(request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    match AuthUser::from_request_parts(&mut parts, &()).await {
        Ok(_) => next.run(Request::from_parts(parts, body)).await,
        Err(refused) => microcore_http::error_response(&Error::from(refused)),
    }
}
