//! The key and lifetime checks that run at boot.

use std::time::Duration;

use microcore::ErrorKind;
use microcore_auth::Auth;
use microcore_config::Config;

const SECRET: &str = "do-not-echo-me-0123456789-0123456789";

#[test]
fn a_key_shorter_than_32_bytes_is_a_config_error_naming_the_variable() {
    let short = &SECRET[..31];
    let e = Auth::from_config(&Config::from_pairs([("AUTH_SECRET_KEY", short)])).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(e.to_string().contains("AUTH_SECRET_KEY"), "{e}");
    assert!(!e.to_string().contains(short), "the key leaked: {e}");
    assert!(!e.chain().contains(short), "the key leaked: {}", e.chain());
}

#[test]
fn a_key_of_exactly_32_bytes_is_accepted() {
    let key = &SECRET[..32];
    let auth = Auth::from_config(&Config::from_pairs([("AUTH_SECRET_KEY", key)])).unwrap();
    let token = auth.issue_for(1, "a@b.c", ["user"]).unwrap();
    // The same key in another handle verifies it: keys are read as given.
    let again = Auth::new(key.as_bytes(), Duration::from_secs(60)).unwrap();
    assert_eq!(again.verify(&token).unwrap().sub, "1");
}

#[test]
fn production_without_a_key_is_a_config_error() {
    for env in ["production", "prod"] {
        let e = Auth::from_config(&Config::from_pairs([
            ("APP_ENV", env),
            ("AUTH_SECRET_KEY", ""),
        ]))
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(
            e.to_string().starts_with("AUTH_SECRET_KEY must be set"),
            "{e}"
        );
    }
}

#[test]
fn production_with_a_short_key_is_a_config_error() {
    let config = Config::from_pairs([("APP_ENV", "production"), ("AUTH_SECRET_KEY", "short")]);
    let e = Auth::from_config(&config).unwrap_err();
    assert!(
        e.to_string().starts_with("AUTH_SECRET_KEY is too short"),
        "{e}"
    );
}

#[test]
fn production_with_a_good_key_boots() {
    let config = Config::from_pairs([("APP_ENV", "production"), ("AUTH_SECRET_KEY", SECRET)]);
    assert!(Auth::from_config(&config).is_ok());
}

#[test]
fn development_and_test_generate_a_key_per_process() {
    for env in ["development", "test"] {
        let config = Config::from_pairs([("APP_ENV", env), ("AUTH_SECRET_KEY", "")]);
        let (a, b) = (
            Auth::from_config(&config).unwrap(),
            Auth::from_config(&config).unwrap(),
        );
        let token = a.issue_for(1, "a@b.c", ["user"]).unwrap();
        assert!(a.verify(&token).is_ok());
        // Two generated keys differ, so their tokens are not interchangeable.
        assert!(b.verify(&token).is_err());
    }
}

#[test]
fn the_ttl_setting_sets_exp_and_a_bad_one_names_its_variable() {
    let config = Config::from_pairs([("AUTH_SECRET_KEY", SECRET), ("AUTH_TOKEN_TTL_SECS", "120")]);
    let auth = Auth::from_config(&config).unwrap();
    assert_eq!(auth.token_ttl(), Duration::from_secs(120));
    let claims = auth.claims_for(1, "a@b.c", ["user"]);
    assert_eq!(claims.exp - claims.iat, 120);

    let config = Config::from_pairs([("AUTH_SECRET_KEY", SECRET), ("AUTH_TOKEN_TTL_SECS", "0")]);
    let e = Auth::from_config(&config).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(
        e.to_string()
            .starts_with("AUTH_TOKEN_TTL_SECS='0' is invalid"),
        "{e}"
    );
}

#[test]
fn a_bad_app_env_is_reported() {
    let config = Config::from_pairs([("APP_ENV", "staging"), ("AUTH_SECRET_KEY", SECRET)]);
    let e = Auth::from_config(&config).unwrap_err();
    assert!(e.to_string().starts_with("APP_ENV="), "{e}");
}

#[test]
fn debug_output_hides_the_key() {
    let auth = Auth::new(SECRET.as_bytes(), Duration::from_secs(60)).unwrap();
    let shown = format!("{auth:?}");
    assert!(
        !shown.contains(SECRET) && !shown.contains("do-not-echo"),
        "{shown}"
    );
}
