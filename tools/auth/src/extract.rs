//! The extractors a handler names to require (or peek at) a login.
//!
//! Where the token is read, in order (CONTRACT §1):
//! 1. an `Authorization` header starting with exactly `Bearer `
//!    (`bearer x` and `Token x` are no token);
//! 2. the `access_token` cookie, except on a state-changing request
//!    (anything but GET, HEAD, OPTIONS, TRACE) without an
//!    `X-Requested-With` header: a browser sends cookies on cross-site form
//!    posts, but cannot add that header to them, so this stops CSRF.
//!
//! The verifier is the [`Auth`] handle, which the auth tool provides to
//! every request (`Http::provide`; [`Auth::attach`] on a hand-built router).

use std::str::FromStr;

use axum::extract::FromRequestParts;
use axum::extract::OptionalFromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderName, Method, header};
use axum::response::{IntoResponse, Response};
use microcore::Error;

use crate::cookie::token_from_cookies;
use crate::token::INVALID_TOKEN;
use crate::{Auth, Claims};

/// The message when a protected route gets no token (CONTRACT §1).
const MISSING_TOKEN: &str = "Missing authorization token";

const X_REQUESTED_WITH: HeaderName = HeaderName::from_static("x-requested-with");

/// The caller of a handler that requires a login: a handler with an
/// `AuthUser` argument answers 401 to requests without a valid token.
///
/// ```
/// use microcore::prelude::*;
/// use microcore_auth::AuthUser;
/// use microcore_http::Http;
///
/// #[plugin(domain = "docs")]
/// pub struct Me { http: Http }
///
/// impl Plugin for Me {
///     async fn on_boot(self: Arc<Self>) -> Result<()> {
///         self.http.get("/me", &self, Self::me);
///         Ok(())
///     }
/// }
///
/// impl Me {
///     async fn me(self: Arc<Self>, user: AuthUser) -> Result<String> {
///         let id: i64 = user.user_id()?;
///         Ok(format!("user {id} <{}>", user.email))
///     }
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthUser {
    /// The user's id as the token carries it (`sub`): see [`AuthUser::user_id`].
    pub id: String,
    /// The user's e-mail address.
    pub email: String,
    /// The user's roles.
    pub roles: Vec<String>,
    /// The token's id (`jti`): see [`Auth::revoke_token`].
    pub token_id: String,
    /// When the token expires, in seconds since the Unix epoch.
    pub expires_at: u64,
}

impl From<Claims> for AuthUser {
    fn from(claims: Claims) -> Self {
        Self {
            id: claims.sub,
            email: claims.email,
            roles: claims.roles,
            token_id: claims.jti,
            expires_at: claims.exp,
        }
    }
}

#[microcore::tool(part_of = crate::Auth)]
impl AuthUser {
    /// The id parsed as the type the app uses (`i64`, `Uuid`, ...).
    ///
    /// ```
    /// # let user = microcore_auth::AuthUser { id: "42".into(), email: String::new(), roles: vec![], token_id: String::new(), expires_at: 0 };
    /// assert_eq!(user.user_id::<i64>().unwrap(), 42);
    /// assert_eq!(user.user_id::<u8>().unwrap(), 42);
    /// assert_eq!(user.user_id::<bool>().unwrap_err().kind(), microcore::ErrorKind::Unauthenticated);
    /// ```
    ///
    /// # Errors
    /// 401 `"Invalid or expired token"` when `sub` is not a `T`: the token
    /// was signed with this app's key but does not name one of its users.
    pub fn user_id<T: FromStr>(&self) -> Result<T, Error> {
        self.id
            .parse()
            .map_err(|_| Error::unauthenticated(INVALID_TOKEN))
    }

    /// Whether the user has `role`.
    ///
    /// ```
    /// # let user = microcore_auth::AuthUser { id: "1".into(), email: String::new(), roles: vec!["user".into()], token_id: String::new(), expires_at: 0 };
    /// assert!(user.has_role("user"));
    /// assert!(!user.has_role("admin"));
    /// ```
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    /// Allows only users with `role`: the role guard of a handler, written
    /// as its first line (`user.require_role("admin")?;`). A const-generic
    /// extractor (`RequireRole<"admin">`) is not possible in stable Rust,
    /// and a check in the body keeps the rule next to the code it guards.
    ///
    /// ```
    /// # let user = microcore_auth::AuthUser { id: "1".into(), email: String::new(), roles: vec!["user".into()], token_id: String::new(), expires_at: 0 };
    /// assert!(user.require_role("user").is_ok());
    /// let e = user.require_role("admin").unwrap_err();
    /// assert_eq!((e.kind(), e.message()), (microcore::ErrorKind::Forbidden, "Forbidden"));
    /// ```
    ///
    /// # Errors
    /// 403 `"Forbidden"` when the user lacks `role`.
    pub fn require_role(&self, role: &str) -> Result<(), Error> {
        if self.has_role(role) {
            Ok(())
        } else {
            Err(Error::forbidden("Forbidden"))
        }
    }
}

/// The caller, if logged in: `Some` with a valid token, `None` with no
/// token or a bad one (an optional login never fails a request; a stale
/// cookie after a key change must not lock anyone out of public pages).
///
/// `Option<AuthUser>` works the same way.
///
/// ```
/// use microcore_auth::MaybeAuthUser;
///
/// async fn greet(MaybeAuthUser(user): MaybeAuthUser) -> String {
///     match user {
///         Some(user) => format!("hello {}", user.email),
///         None => "hello stranger".into(),
///     }
/// }
/// # let _ = greet;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaybeAuthUser(pub Option<AuthUser>);

/// Why an [`AuthUser`] could not be extracted: answered as the JSON error
/// envelope (401, or 500 when the auth tool is not linked).
///
/// ```
/// use microcore_auth::AuthRejection;
///
/// fn status(r: AuthRejection) -> u16 {
///     microcore_http::status_of(r.into_error().kind())
/// }
/// # let _ = status;
/// ```
#[derive(Debug)]
pub struct AuthRejection(Error);

impl AuthRejection {
    /// The error it stands for.
    pub fn into_error(self) -> Error {
        self.0
    }
}

impl From<AuthRejection> for Error {
    fn from(r: AuthRejection) -> Self {
        r.0
    }
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        microcore_http::error_response(&self.0)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for AuthUser {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let auth = verifier(parts)?;
        let token = find_token(parts).ok_or_else(|| rejection(MISSING_TOKEN))?;
        accept(&auth, token).map_err(AuthRejection)
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for AuthUser {
    type Rejection = AuthRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        let auth = verifier(parts)?;
        Ok(find_token(parts).and_then(|token| accept(&auth, token).ok()))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for MaybeAuthUser {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        <AuthUser as OptionalFromRequestParts<S>>::from_request_parts(parts, state)
            .await
            .map(MaybeAuthUser)
    }
}

/// The caller a token names, when it is valid and not revoked.
fn accept(auth: &Auth, token: &str) -> Result<AuthUser, Error> {
    let claims = auth.verify(token)?;
    auth.check(&claims)?;
    Ok(AuthUser::from(claims))
}

fn rejection(message: &'static str) -> AuthRejection {
    AuthRejection(Error::unauthenticated(message))
}

/// The `Auth` the tool attached to the router.
fn verifier(parts: &Parts) -> Result<Auth, AuthRejection> {
    microcore_http::provided::<Auth>(&parts.extensions)
        .cloned()
        .ok_or_else(|| {
            AuthRejection(Error::internal(
                "a handler takes AuthUser but the auth tool is not linked or not set up \
             (no Auth in the request's extensions): link microcore-auth into the binary, \
             or call Auth::attach on a hand-built router",
            ))
        })
}

/// The token of the request, by the rules in the module docs.
fn find_token(parts: &Parts) -> Option<&str> {
    if let Some(token) = bearer(parts) {
        return Some(token);
    }
    let cookie_allowed = is_safe(&parts.method) || parts.headers.contains_key(X_REQUESTED_WITH);
    if cookie_allowed {
        token_from_cookies(&parts.headers)
    } else {
        None
    }
}

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = value.strip_prefix("Bearer ")?.trim();
    (!token.is_empty()).then_some(token)
}

fn is_safe(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// A route taking [`AuthUser`] needs a bearer token: documented with the
/// bearer security scheme and its 401 answer.
impl microcore_http::ApiArg for AuthUser {
    type Via = microcore_http::ViaParts;

    fn describe(doc: &mut microcore_http::OperationDoc) {
        doc.secure();
        doc.needs(<crate::Auth as microcore::ToolHandle>::NAME, "AuthUser");
    }
}

/// Optional authentication adds nothing to the document.
impl microcore_http::ApiArg for MaybeAuthUser {
    type Via = microcore_http::ViaParts;

    fn describe(doc: &mut microcore_http::OperationDoc) {
        doc.requires("optional bearer");
        doc.needs(
            <crate::Auth as microcore::ToolHandle>::NAME,
            "MaybeAuthUser",
        );
    }
}
