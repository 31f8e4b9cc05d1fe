//! Password hashes: Argon2id PHC strings that verify the right password only.

use microcore_auth::Auth;

#[tokio::test]
async fn hashes_are_argon2id_phc_strings() {
    let auth = Auth::for_tests();
    let hash = auth
        .hash_password("correct horse battery staple")
        .await
        .unwrap();
    assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
    assert!(!hash.contains("correct horse"));
}

#[tokio::test]
async fn the_right_password_verifies_and_a_wrong_one_does_not() {
    let auth = Auth::for_tests();
    let hash = auth.hash_password("s3cret-pass").await.unwrap();
    assert!(auth.verify_password("s3cret-pass", &hash).await);
    assert!(!auth.verify_password("s3cret-pasS", &hash).await);
    assert!(!auth.verify_password("", &hash).await);
}

#[tokio::test]
async fn unicode_and_empty_passwords_hash() {
    let auth = Auth::for_tests();
    for pw in ["", "pässwörd 🔑", &"x".repeat(10_000)] {
        let hash = auth.hash_password(pw).await.unwrap();
        assert!(auth.verify_password(pw, &hash).await);
    }
}

#[tokio::test]
async fn malformed_hashes_never_verify() {
    let auth = Auth::for_tests();
    for hash in [
        "",
        "plain",
        "$argon2id$",
        "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$",
        "$2b$12$abcdefghijklmnopqrstuv",
    ] {
        assert!(!auth.verify_password("anything", hash).await, "{hash}");
    }
}

#[tokio::test]
async fn the_decoy_costs_a_verification_and_never_matches() {
    let auth = Auth::for_tests();
    assert!(
        !auth
            .verify_password_or_decoy("whatever", None)
            .await
            .unwrap()
    );
    let hash = auth.hash_password("pw").await.unwrap();
    assert!(
        auth.verify_password_or_decoy("pw", Some(&hash))
            .await
            .unwrap()
    );
    assert!(
        !auth
            .verify_password_or_decoy("nope", Some(&hash))
            .await
            .unwrap()
    );
}
