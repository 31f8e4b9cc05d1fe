//! Tokens: JWT signed with HS256, and the one answer every bad token gets.
//!
//! Only HS256 is accepted (so `alg: none` and algorithm swaps fail), the
//! signature must match, and `exp` is checked with no leeway. Why a token
//! was refused goes to the debug log; the caller only ever hears
//! `"Invalid or expired token"`, so it learns nothing about the key.

use jsonwebtoken::{Algorithm, Header};
use microcore::Error;
use serde::{Deserialize, Serialize};

use crate::Auth;

/// The message of every refused token (CONTRACT §1).
pub(crate) const INVALID_TOKEN: &str = "Invalid or expired token";

/// What a token says about its bearer.
///
/// ```
/// use microcore_auth::Claims;
///
/// let claims = Claims {
///     sub: "7".into(),
///     email: "ada@example.com".into(),
///     roles: vec!["user".into()],
///     exp: 2_000_000_000,
///     iat: 1_900_000_000,
///     jti: "4b1f0c7e".into(),
/// };
/// assert!(claims.has_role("user"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user's id, always a string (`"7"`), whatever the id's type.
    pub sub: String,
    /// The user's e-mail address.
    pub email: String,
    /// The user's roles (`["user"]`, `["user", "admin"]`).
    #[serde(default)]
    pub roles: Vec<String>,
    /// Expiry, in seconds since the Unix epoch.
    pub exp: u64,
    /// Issue time, in seconds since the Unix epoch.
    #[serde(default)]
    pub iat: u64,
    /// The token's own id, random: what a logout revokes.
    #[serde(default)]
    pub jti: String,
}

impl Claims {
    /// Whether `role` is one of the roles.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }
}

#[microcore::tool]
impl Auth {
    /// Claims for this user, issued now and expiring after
    /// [`Auth::token_ttl`].
    ///
    /// ```
    /// let auth = microcore_auth::Auth::for_tests();
    /// let claims = auth.claims_for(7, "ada@example.com", ["user"]);
    /// assert_eq!(claims.sub, "7");
    /// assert_eq!(claims.exp - claims.iat, 86_400);
    /// ```
    pub fn claims_for<R: Into<String>>(
        &self,
        user_id: impl ToString,
        email: impl Into<String>,
        roles: impl IntoIterator<Item = R>,
    ) -> Claims {
        let iat = jsonwebtoken::get_current_timestamp();
        Claims {
            sub: user_id.to_string(),
            email: email.into(),
            roles: roles.into_iter().map(Into::into).collect(),
            exp: iat.saturating_add(self.inner.ttl.as_secs()),
            iat,
            jti: uuid::Uuid::new_v4().simple().to_string(),
        }
    }

    /// Signs `claims` as they are (their `exp` and `iat` included).
    ///
    /// ```
    /// let auth = microcore_auth::Auth::for_tests();
    /// let claims = auth.claims_for("7", "ada@example.com", ["user", "admin"]);
    /// let token = auth.issue(&claims).unwrap();
    /// assert_eq!(auth.verify(&token).unwrap(), claims);
    /// ```
    ///
    /// # Errors
    /// An internal error if signing fails (it does not with an HMAC key).
    pub fn issue(&self, claims: &Claims) -> Result<String, Error> {
        self.timed_sync("issue", || {
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.inner.encoding)
                .map_err(|e| Error::internal("could not sign a token").with_source(e))
        })
    }

    /// A token for this user, valid for [`Auth::token_ttl`]: what a login
    /// hands out. `sub` is `user_id` as a string.
    ///
    /// ```
    /// let auth = microcore_auth::Auth::for_tests();
    /// let token = auth.issue_for(7, "ada@example.com", ["user"]).unwrap();
    /// assert_eq!(auth.verify(&token).unwrap().email, "ada@example.com");
    /// ```
    ///
    /// # Errors
    /// As [`Auth::issue`].
    pub fn issue_for<R: Into<String>>(
        &self,
        user_id: impl ToString,
        email: impl Into<String>,
        roles: impl IntoIterator<Item = R>,
    ) -> Result<String, Error> {
        self.issue(&self.claims_for(user_id, email, roles))
    }

    /// The claims of a token this app signed and that has not expired.
    ///
    /// ```
    /// use microcore::ErrorKind;
    ///
    /// let auth = microcore_auth::Auth::for_tests();
    /// let e = auth.verify("not.a.token").unwrap_err();
    /// assert_eq!(e.kind(), ErrorKind::Unauthenticated);
    /// assert_eq!(e.to_string(), "Invalid or expired token");
    /// ```
    ///
    /// # Errors
    /// [`Error::unauthenticated`]`("Invalid or expired token")` for
    /// anything else: garbage, another key's signature, another algorithm
    /// (`none` included), a missing signature, an expired token, or claims
    /// of the wrong shape.
    pub fn verify(&self, token: &str) -> Result<Claims, Error> {
        self.timed_sync("verify", || {
            jsonwebtoken::decode::<Claims>(token, &self.inner.decoding, &self.inner.validation)
                .map(|data| data.claims)
                .map_err(|e| {
                    tracing::debug!("token refused: {e}");
                    Error::unauthenticated(INVALID_TOKEN)
                })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_iat_plus_ttl() {
        let auth = Auth::new(&[7; 32], std::time::Duration::from_secs(90)).unwrap();
        let claims = auth.claims_for(1, "a@b.c", Vec::<String>::new());
        assert_eq!(claims.exp - claims.iat, 90);
        assert!(claims.roles.is_empty());
    }

    #[test]
    fn a_token_signed_with_hs512_and_the_same_key_is_refused() {
        let key = [9u8; 32];
        let auth = Auth::new(&key, std::time::Duration::from_secs(60)).unwrap();
        let claims = auth.claims_for(1, "a@b.c", ["user"]);
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS512),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(&key),
        )
        .unwrap();
        assert_eq!(auth.verify(&token).unwrap_err().message(), INVALID_TOKEN);
    }

    #[test]
    fn a_numeric_sub_is_refused() {
        let key = [9u8; 32];
        let auth = Auth::new(&key, std::time::Duration::from_secs(60)).unwrap();
        let exp = jsonwebtoken::get_current_timestamp() + 60;
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &serde_json::json!({"sub": 7, "email": "a@b.c", "roles": [], "exp": exp}),
            &jsonwebtoken::EncodingKey::from_secret(&key),
        )
        .unwrap();
        assert!(auth.verify(&token).is_err());
    }
}
