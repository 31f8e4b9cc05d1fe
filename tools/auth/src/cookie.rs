//! The `access_token` cookie: set at login, cleared at logout (CONTRACT §2),
//! and read back by the extractor.
//!
//! `HttpOnly` keeps it from scripts, `SameSite=Lax` from most cross-site
//! requests, and the extractor's CSRF rule covers the rest.

use axum::http::{HeaderMap, HeaderValue, header};

use crate::Auth;

/// The cookie's name.
pub const COOKIE_NAME: &str = "access_token";

#[microcore::tool]
impl Auth {
    /// The `Set-Cookie` value of a login: the token, for as long as a token
    /// lives ([`Auth::token_ttl`], 24 h by default).
    ///
    /// Characters a cookie value cannot hold (none appear in a token from
    /// [`Auth::issue`]) are dropped rather than failing.
    ///
    /// ```
    /// let auth = microcore_auth::Auth::for_tests();
    /// assert_eq!(
    ///     auth.login_cookie("abc.def.ghi"),
    ///     "access_token=abc.def.ghi; HttpOnly; Max-Age=86400; Path=/; SameSite=Lax; Secure",
    /// );
    /// ```
    pub fn login_cookie(&self, token: &str) -> HeaderValue {
        let value: String = token.chars().filter(|c| is_cookie_octet(*c)).collect();
        let cookie = format!(
            "{COOKIE_NAME}={value}; HttpOnly; Max-Age={}; Path=/; SameSite=Lax; Secure",
            self.inner.ttl.as_secs()
        );
        HeaderValue::from_str(&cookie).unwrap_or_else(|_| self.logout_cookie())
    }

    /// The `Set-Cookie` value of a logout: an empty cookie that expires now.
    ///
    /// ```
    /// let auth = microcore_auth::Auth::for_tests();
    /// assert_eq!(
    ///     auth.logout_cookie(),
    ///     r#"access_token=""; Max-Age=0; HttpOnly; Path=/; SameSite=Lax; Secure"#,
    /// );
    /// ```
    pub fn logout_cookie(&self) -> HeaderValue {
        HeaderValue::from_static(
            r#"access_token=""; Max-Age=0; HttpOnly; Path=/; SameSite=Lax; Secure"#,
        )
    }
}

/// RFC 6265 `cookie-octet`: visible ASCII except `"`, `,`, `;` and `\`.
fn is_cookie_octet(c: char) -> bool {
    matches!(c, '!' | '#'..='+' | '-'..=':' | '<'..='[' | ']'..='~')
}

/// The value of the first non-empty `access_token` cookie, quotes removed.
pub(crate) fn token_from_cookies(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(name, _)| name.trim() == COOKIE_NAME)
        .map(|(_, value)| value.trim().trim_matches('"'))
        .find(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cookies(values: &[&'static str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(header::COOKIE, HeaderValue::from_static(v));
        }
        headers
    }

    #[test]
    fn finds_the_token_among_other_cookies() {
        let h = cookies(&["theme=dark; access_token=abc.def; lang=en"]);
        assert_eq!(token_from_cookies(&h), Some("abc.def"));
        let h = cookies(&["theme=dark", "access_token=\"q.r.s\""]);
        assert_eq!(token_from_cookies(&h), Some("q.r.s"));
    }

    #[test]
    fn empty_or_absent_cookie_is_no_token() {
        assert_eq!(token_from_cookies(&cookies(&["access_token=\"\""])), None);
        assert_eq!(token_from_cookies(&cookies(&["access_token="])), None);
        assert_eq!(token_from_cookies(&cookies(&["my_access_token=x"])), None);
        assert_eq!(token_from_cookies(&HeaderMap::new()), None);
    }

    #[test]
    fn login_cookie_drops_characters_a_cookie_cannot_hold() {
        let auth = Auth::for_tests();
        let v = auth.login_cookie("a;b c\"d\ne");
        assert!(
            v.to_str()
                .unwrap()
                .starts_with("access_token=abcde; HttpOnly")
        );
    }
}
