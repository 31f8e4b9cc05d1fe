//! Tokens: what `issue` signs, `verify` gives back; everything else is the
//! one 401 "Invalid or expired token".

mod common;

use std::time::Duration;

use common::{alg_none_token, b64url, now, segments};
use microcore::ErrorKind;
use microcore_auth::{Auth, Claims};

fn assert_refused(auth: &Auth, token: &str) {
    let e = auth.verify(token).expect_err(token);
    assert_eq!(e.kind(), ErrorKind::Unauthenticated, "{token}");
    assert_eq!(e.message(), "Invalid or expired token", "{token}");
}

#[test]
fn issue_then_verify_gives_the_claims_back() {
    let auth = Auth::for_tests();
    let token = auth
        .issue_for(42, "ada@example.com", ["user", "admin"])
        .unwrap();
    let claims = auth.verify(&token).unwrap();
    assert_eq!(claims.sub, "42");
    assert_eq!(claims.email, "ada@example.com");
    assert_eq!(claims.roles, ["user", "admin"]);
    assert_eq!(claims.exp - claims.iat, 86_400);
    assert!(claims.iat.abs_diff(now()) <= 5);
}

#[test]
fn the_payload_holds_sub_as_a_string_and_the_header_says_hs256() {
    let auth = Auth::for_tests();
    let token = auth.issue_for(7u64, "a@b.c", ["user"]).unwrap();
    let [header, payload, _] = segments(&token);
    let header: serde_json::Value = serde_json::from_slice(&decode_b64url(header)).unwrap();
    assert_eq!(header["alg"], "HS256");
    let claims: serde_json::Value = serde_json::from_slice(&decode_b64url(payload)).unwrap();
    assert_eq!(claims["sub"], "7");
    assert_eq!(claims["roles"], serde_json::json!(["user"]));
    assert!(claims["exp"].is_u64() && claims["iat"].is_u64());
}

#[test]
fn garbage_is_refused() {
    let auth = Auth::for_tests();
    for token in [
        "",
        "garbage",
        "a.b.c",
        "..",
        "Bearer x",
        "eyJ.eyJ.sig",
        "ä.ö.ü",
    ] {
        assert_refused(&auth, token);
    }
}

#[test]
fn a_token_signed_with_another_key_is_refused() {
    let ours = Auth::for_tests();
    let theirs = Auth::new(&[b'x'; 32], Duration::from_secs(3600)).unwrap();
    let forged = theirs
        .issue_for(1, "mallory@example.com", ["admin"])
        .unwrap();
    assert!(theirs.verify(&forged).is_ok());
    assert_refused(&ours, &forged);
}

#[test]
fn a_payload_swapped_under_a_valid_signature_is_refused() {
    let auth = Auth::for_tests();
    let honest = auth.issue_for(1, "ada@example.com", ["user"]).unwrap();
    let [header, _, signature] = segments(&honest);
    let evil = auth.claims_for(2, "mallory@example.com", ["admin"]);
    let payload = b64url(serde_json::to_string(&evil).unwrap().as_bytes());
    assert_refused(&auth, &format!("{header}.{payload}.{signature}"));
}

#[test]
fn alg_none_is_refused() {
    let auth = Auth::for_tests();
    assert_refused(&auth, &alg_none_token("1"));
    // ... and with a real signature left in place.
    let honest = auth.issue_for(1, "ada@example.com", ["user"]).unwrap();
    let [_, payload, signature] = segments(&honest);
    let none = b64url(br#"{"alg":"none","typ":"JWT"}"#);
    assert_refused(&auth, &format!("{none}.{payload}.{signature}"));
}

#[test]
fn a_stripped_signature_is_refused() {
    let auth = Auth::for_tests();
    let token = auth.issue_for(1, "ada@example.com", ["user"]).unwrap();
    let [header, payload, _] = segments(&token);
    assert_refused(&auth, &format!("{header}.{payload}."));
    assert_refused(&auth, &format!("{header}.{payload}"));
}

#[test]
fn an_expired_token_is_refused_with_no_leeway() {
    let auth = Auth::for_tests();
    let mut claims = auth.claims_for(1, "ada@example.com", ["user"]);
    claims.exp = now() - 2;
    claims.iat = claims.exp - 60;
    let token = auth.issue(&claims).unwrap();
    assert_refused(&auth, &token);
}

#[test]
fn a_properly_signed_token_without_exp_or_sub_is_refused() {
    let key = [b'k'; 32];
    let auth = Auth::new(&key, Duration::from_secs(60)).unwrap();
    let sign = |claims: serde_json::Value| {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(&key),
        )
        .unwrap()
    };
    let exp = now() + 60;
    assert!(
        auth.verify(&sign(
            serde_json::json!({"sub": "1", "email": "a@b.c", "exp": exp})
        ))
        .is_ok()
    );
    assert_refused(
        &auth,
        &sign(serde_json::json!({"sub": "1", "email": "a@b.c", "roles": []})),
    );
    assert_refused(
        &auth,
        &sign(serde_json::json!({"email": "a@b.c", "roles": [], "exp": exp})),
    );
    assert_refused(
        &auth,
        &sign(serde_json::json!({"sub": "1", "email": "a@b.c", "exp": "tomorrow"})),
    );
}

#[test]
fn claims_issued_as_given_round_trip() {
    let auth = Auth::for_tests();
    let claims = Claims {
        sub: "u-1".into(),
        email: "x@y.z".into(),
        roles: vec![],
        exp: now() + 100,
        iat: now(),
        jti: "t-1".into(),
    };
    assert_eq!(auth.verify(&auth.issue(&claims).unwrap()).unwrap(), claims);
}

fn decode_b64url(s: &str) -> Vec<u8> {
    let value = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'-' => 62,
            _ => 63,
        }
    };
    let mut out = Vec::new();
    for chunk in s.as_bytes().chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, c)| n | (value(*c) << (18 - 6 * i)));
        for i in 0..chunk.len() - 1 {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}
