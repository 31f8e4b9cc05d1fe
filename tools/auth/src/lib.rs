//! The `auth` tool: who is calling, and may they.
//!
//! - **Tokens**: JWT signed with HS256 under `AUTH_SECRET_KEY` (at least 32
//!   bytes; generated per process, with a warning, when unset outside
//!   production). Claims: `sub` (the user id, as a string), `email`,
//!   `roles`, `exp` (now + `AUTH_TOKEN_TTL_SECS`, 24 h by default), `iat`.
//!   Every bad token (garbage, forged, `alg: none`, unsigned, expired) is
//!   the same 401 `"Invalid or expired token"`.
//! - **Passwords**: Argon2id PHC strings, hashed on the blocking pool by a
//!   bounded stage ([`HashLimits`]): past it, 503 with `Retry-After`.
//! - **Extractors**: a handler argument [`AuthUser`] requires a login
//!   (bearer header, or the `access_token` cookie with the CSRF rule);
//!   [`MaybeAuthUser`] makes it optional; [`AuthUser::require_role`]
//!   guards by role.
//! - **Cookies**: [`Auth::login_cookie`] and [`Auth::logout_cookie`].
//! - **Revocation**: [`Auth::revoke_token`] (logout) and
//!   [`Auth::revoke_user`] (account deleted), refused on every replica
//!   sharing the state tool; each request checks a local table only.
//!
//! A login handler and a protected one:
//!
//! ```
//! use microcore::prelude::*;
//! use microcore_auth::{Auth, AuthUser};
//! use microcore_http::{Http, Reply};
//! use axum::http::header::SET_COOKIE;
//!
//! #[plugin(domain = "docs")]
//! pub struct Session { http: Http, auth: Auth }
//!
//! impl Plugin for Session {
//!     async fn on_boot(self: Arc<Self>) -> Result<()> {
//!         self.http.post("/login", &self, Self::login);
//!         self.http.get("/me", &self, Self::me);
//!         Ok(())
//!     }
//! }
//!
//! impl Session {
//!     async fn login(self: Arc<Self>) -> Result<Reply<serde_json::Value>> {
//!         // ... look the user up and check `self.auth.verify_password(..)` ...
//!         let token = self.auth.issue_for(7, "ada@example.com", ["user"])?;
//!         let cookie = self.auth.login_cookie(&token);
//!         Ok(Reply::new(serde_json::json!({ "token": token })).header(SET_COOKIE, cookie))
//!     }
//!
//!     async fn me(self: Arc<Self>, user: AuthUser) -> Result<serde_json::Value> {
//!         Ok(serde_json::json!({ "id": user.user_id::<i64>()?, "email": user.email }))
//!     }
//! }
//! ```

mod cookie;
mod crypto;
mod extract;
mod handle;
mod hashing;
mod password;
mod revocation;
mod settings;
mod token;
mod tool;

pub use cookie::COOKIE_NAME;
pub use extract::{AuthRejection, AuthUser, MaybeAuthUser};
pub use handle::{Auth, DEFAULT_TOKEN_TTL, MIN_KEY_LEN};
pub use hashing::HashLimits;
pub use token::Claims;
pub use tool::AuthTool;
