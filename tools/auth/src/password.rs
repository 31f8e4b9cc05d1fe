//! Password hashes: Argon2id in PHC strings (`$argon2id$v=19$m=…`).
//!
//! Hashing takes tens of milliseconds of CPU by design, so it runs on
//! tokio's blocking pool, through the bounded stage of `hashing.rs`: a
//! burst of logins must neither stall the threads that serve every other
//! request nor grow memory without limit.

use argon2::{Algorithm, Argon2, PasswordHash, PasswordHasher, PasswordVerifier, Version};
use microcore::Error;

use crate::Auth;

#[microcore::tool]
impl Auth {
    /// The Argon2id hash of `password`, with a fresh random salt, as a PHC
    /// string to store.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let auth = microcore_auth::Auth::for_tests();
    /// let hash = auth.hash_password("correct horse").await.unwrap();
    /// assert!(hash.starts_with("$argon2id$"));
    /// # }
    /// ```
    ///
    /// # Errors
    /// 503 ([`ErrorKind::Unavailable`](microcore::ErrorKind::Unavailable))
    /// when the hashing stage is saturated; an internal error if hashing
    /// fails (the random source is broken).
    pub async fn hash_password(&self, password: &str) -> Result<String, Error> {
        let params = self.inner.argon2.clone();
        let password = password.to_owned();
        self.timed("hash_password", async move {
            self.inner
                .hashing
                .run(move || hash(&params, &password))
                .await?
        })
        .await
    }

    /// Whether `password` matches `hash` (a PHC string from
    /// [`Auth::hash_password`]). A malformed hash is a mismatch, logged.
    /// Use [`Auth::check_password`] to tell a saturated stage (503) from a
    /// mismatch.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let auth = microcore_auth::Auth::for_tests();
    /// let hash = auth.hash_password("correct horse").await.unwrap();
    /// assert!(auth.verify_password("correct horse", &hash).await);
    /// assert!(!auth.verify_password("wrong horse", &hash).await);
    /// assert!(!auth.verify_password("correct horse", "not a hash").await);
    /// # }
    /// ```
    pub async fn verify_password(&self, password: &str, hash: &str) -> bool {
        self.check_password(password, hash).await.unwrap_or(false)
    }

    /// Whether `password` matches `hash`, like [`Auth::verify_password`],
    /// but a saturated hashing stage is an error rather than a mismatch.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let auth = microcore_auth::Auth::for_tests();
    /// let hash = auth.hash_password("correct horse").await.unwrap();
    /// assert!(auth.check_password("correct horse", &hash).await.unwrap());
    /// # }
    /// ```
    ///
    /// # Errors
    /// 503 when the hashing stage is saturated.
    pub async fn check_password(&self, password: &str, hash: &str) -> Result<bool, Error> {
        let (password, hash) = (password.to_owned(), hash.to_owned());
        self.timed("verify_password", async move {
            self.inner
                .hashing
                .run(move || verify(&password, &hash))
                .await
        })
        .await
    }

    /// Like [`Auth::verify_password`], with a decoy for no hash. When there
    /// is no hash (the login named an unknown account) it checks a decoy
    /// hash of the same cost and answers `false`, so response times do not
    /// reveal which e-mail addresses have an account.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let auth = microcore_auth::Auth::for_tests();
    /// let stored: Option<String> = None; // no user with that e-mail
    /// assert!(!auth.verify_password_or_decoy("guess", stored.as_deref()).await.unwrap());
    /// # }
    /// ```
    ///
    /// # Errors
    /// 503 when the hashing stage is saturated (a login must then answer
    /// 503, not "wrong password").
    pub async fn verify_password_or_decoy(
        &self,
        password: &str,
        hash: Option<&str>,
    ) -> Result<bool, Error> {
        match hash {
            Some(hash) => self.check_password(password, hash).await,
            None => {
                let decoy = match self.inner.decoy.get() {
                    Some(decoy) => decoy.clone(),
                    None => {
                        let decoy = self.hash_password("microcore decoy password").await?;
                        self.inner.decoy.get_or_init(|| decoy).clone()
                    }
                };
                self.check_password(password, &decoy).await?;
                Ok(false)
            }
        }
    }
}

fn argon2id(params: argon2::Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash(params: &argon2::Params, password: &str) -> Result<String, Error> {
    argon2id(params.clone())
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| Error::internal("could not hash a password").with_source(e))
}

fn verify(password: &str, hash: &str) -> bool {
    let parsed = match PasswordHash::new(hash) {
        Ok(parsed) => parsed,
        Err(e) => {
            tracing::warn!("a stored password hash is not a valid PHC string: {e}");
            return false;
        }
    };
    // The hash carries its own algorithm and cost; the context's are unused.
    argon2id(argon2::Params::default())
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn production_cost_hashes_verify_with_the_test_handle() {
        let production = Auth::new(&[1; 32], std::time::Duration::from_secs(60)).unwrap();
        let hash = production.hash_password("pw-12345").await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(Auth::for_tests().verify_password("pw-12345", &hash).await);
    }

    #[tokio::test]
    async fn salts_differ() {
        let auth = Auth::for_tests();
        let (a, b) = (
            auth.hash_password("same").await.unwrap(),
            auth.hash_password("same").await.unwrap(),
        );
        assert_ne!(a, b);
    }

    #[tokio::test]
    async fn the_decoy_never_matches() {
        let auth = Auth::for_tests();
        assert!(
            !auth
                .verify_password_or_decoy("microcore decoy password", None)
                .await
                .unwrap()
        );
        let hash = auth.hash_password("pw").await.unwrap();
        assert!(
            auth.verify_password_or_decoy("pw", Some(&hash))
                .await
                .unwrap()
        );
    }
}
