//! HS256 bearer tokens, checked as `tools/auth` checks them: the
//! `Authorization: Bearer` header first, then the `access_token` cookie on
//! safe methods; only HS256, `exp` and `sub` required, no leeway.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use crate::{AppState, envelope};

/// The key and the rules a token is checked against.
pub(crate) struct Jwt {
    key: DecodingKey,
    validation: Validation,
}

impl Jwt {
    pub(crate) fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Self {
            key: DecodingKey::from_secret(secret),
            validation,
        }
    }
}

/// The claims the app issues (CONTRACT §1).
#[derive(Debug, Deserialize)]
#[allow(dead_code)] // read as the app reads them, even where unused here
pub(crate) struct AuthUser {
    pub(crate) sub: String,
    pub(crate) email: String,
    #[serde(default)]
    pub(crate) roles: Vec<String>,
    pub(crate) exp: u64,
}

/// A 401 envelope.
pub(crate) struct Unauthorized(&'static str);

impl IntoResponse for Unauthorized {
    fn into_response(self) -> Response {
        envelope::error(StatusCode::UNAUTHORIZED, self.0)
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = Unauthorized;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = token(parts).ok_or(Unauthorized("Missing authorization token"))?;
        jsonwebtoken::decode::<AuthUser>(token, &state.jwt.key, &state.jwt.validation)
            .map(|data| data.claims)
            .map_err(|_| Unauthorized("Invalid or expired token"))
    }
}

fn token(parts: &Parts) -> Option<&str> {
    let bearer = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty());
    if bearer.is_some() {
        return bearer;
    }
    let safe = matches!(
        parts.method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    );
    if safe || parts.headers.contains_key("x-requested-with") {
        cookie(&parts.headers)
    } else {
        None
    }
}

fn cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(name, _)| name.trim() == "access_token")
        .map(|(_, value)| value.trim().trim_matches('"'))
        .find(|value| !value.is_empty())
}
