//! Helpers shared by the integration tests: hand-made tokens.

#![allow(dead_code)]

/// base64url without padding, as JWT segments are written.
pub(crate) fn b64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// The three segments of a JWT.
pub(crate) fn segments(token: &str) -> [&str; 3] {
    let mut it = token.split('.');
    let parts = [it.next().unwrap(), it.next().unwrap(), it.next().unwrap()];
    assert!(it.next().is_none());
    parts
}

/// Seconds since the Unix epoch.
pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// An unsigned (`alg: none`) token claiming to be user `sub`, valid for an hour.
pub(crate) fn alg_none_token(sub: &str) -> String {
    let header = b64url(br#"{"alg":"none","typ":"JWT"}"#);
    let claims = serde_json::json!({
        "sub": sub, "email": "mallory@example.com", "roles": ["admin"],
        "exp": now() + 3600, "iat": now(),
    });
    let payload = b64url(claims.to_string().as_bytes());
    format!("{header}.{payload}.")
}
