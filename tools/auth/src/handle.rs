//! The `Auth` handle: one signing key, one token lifetime and one password
//! cost, shared by every plugin that holds a copy.
//!
//! It is built from configuration by the tool ([`Auth::from_config`]) or by
//! hand in tests ([`Auth::for_tests`]); its methods live beside their
//! subject (`token.rs`, `password.rs`, `cookie.rs`).

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::{Extension, Router};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Validation};
use microcore::{Error, ToolHandle};
use microcore_calls::Calls;
use microcore_config::Config;

use crate::hashing::{HashLimits, HashStage};
use crate::revocation::Revocations;
use crate::settings;

/// Issues and checks tokens, hashes and checks passwords.
///
/// A cheap clone: every copy shares one key. Plugins name it as a field
/// (`auth: Auth`); handlers that need the caller take an
/// [`AuthUser`](crate::AuthUser) argument instead.
///
/// ```
/// use microcore_auth::Auth;
///
/// let auth = Auth::for_tests();
/// let token = auth.issue_for(42, "ada@example.com", ["user"]).unwrap();
/// let claims = auth.verify(&token).unwrap();
/// assert_eq!(claims.sub, "42");
/// assert_eq!(claims.roles, ["user"]);
/// ```
#[derive(Clone)]
pub struct Auth {
    pub(crate) inner: Arc<Inner>,
    /// Where each hash, check and token is reported (the app's `calls`
    /// tool; a slot nobody records in for a handle built outside an app).
    calls: Calls,
    owner: &'static str,
}

pub(crate) struct Inner {
    pub(crate) encoding: EncodingKey,
    pub(crate) decoding: DecodingKey,
    pub(crate) validation: Validation,
    pub(crate) ttl: Duration,
    pub(crate) argon2: argon2::Params,
    /// A hash of nothing in particular, verified when a login names an
    /// unknown account so that it costs as much as a wrong password.
    pub(crate) decoy: OnceLock<String>,
    /// The bound on hashes running and waiting at once.
    pub(crate) hashing: HashStage,
    /// Tokens and users refused before their tokens expire.
    pub(crate) revocations: Revocations,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key stays out of logs and panics.
        f.debug_struct("Auth")
            .field("token_ttl", &self.inner.ttl)
            .field("argon2", &self.inner.argon2)
            .finish_non_exhaustive()
    }
}

impl ToolHandle for Auth {
    const NAME: &'static str = "auth";

    fn for_owner(&self, owner: &'static str) -> Self {
        Self {
            owner,
            ..self.clone()
        }
    }
}

/// The smallest key accepted, in bytes (HS256 keys shorter than the hash
/// output weaken it; RFC 7518 §3.2).
pub const MIN_KEY_LEN: usize = 32;

/// The token lifetime when `AUTH_TOKEN_TTL_SECS` is not set: 24 hours.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(86_400);

#[microcore::tool(guide = "../AI.md")]
impl Auth {
    /// An `Auth` with this key, token lifetime and production Argon2
    /// parameters (the `argon2` crate's defaults: Argon2id, 19 MiB, 2 passes).
    ///
    /// ```
    /// use std::time::Duration;
    /// use microcore_auth::Auth;
    ///
    /// let auth = Auth::new(b"0123456789abcdef0123456789abcdef", Duration::from_secs(3600)).unwrap();
    /// assert_eq!(auth.token_ttl(), Duration::from_secs(3600));
    ///
    /// let e = Auth::new(b"too short", Duration::from_secs(3600)).unwrap_err();
    /// assert!(e.to_string().starts_with("AUTH_SECRET_KEY is too short"));
    /// ```
    ///
    /// # Errors
    /// A configuration error naming `AUTH_SECRET_KEY` when the key is
    /// shorter than [`MIN_KEY_LEN`] bytes, or naming `AUTH_TOKEN_TTL_SECS`
    /// when `ttl` is under one second.
    pub fn new(key: &[u8], ttl: Duration) -> Result<Self, Error> {
        if key.len() < MIN_KEY_LEN {
            return Err(Error::config(format!(
                "AUTH_SECRET_KEY is too short: it has {} bytes, at least {MIN_KEY_LEN} are required \
                 (generate one with `openssl rand -hex 32`)",
                key.len()
            )));
        }
        if ttl.as_secs() == 0 {
            return Err(Error::config(
                "AUTH_TOKEN_TTL_SECS is invalid: expected a whole number of seconds of at least 1",
            ));
        }
        Ok(Self::assemble(
            key,
            ttl,
            argon2::Params::default(),
            HashLimits::default(),
        ))
    }

    /// The `Auth` of the app: `AUTH_SECRET_KEY` and `AUTH_TOKEN_TTL_SECS`
    /// read from `config`, checked as `docs/auth.md` describes. In
    /// development and test a missing key is generated, with a warning.
    ///
    /// ```
    /// use microcore_auth::Auth;
    /// use microcore_config::Config;
    ///
    /// let config = Config::from_pairs([("APP_ENV", "production"), ("AUTH_SECRET_KEY", "")]);
    /// let e = Auth::from_config(&config).unwrap_err();
    /// assert!(e.to_string().contains("AUTH_SECRET_KEY must be set"));
    /// ```
    ///
    /// # Errors
    /// A configuration error naming the variable at fault (the key itself
    /// is never shown).
    pub fn from_config(config: &Config) -> Result<Self, Error> {
        let settings = settings::AuthSettings::read(config)?;
        Self::new(&settings.key, settings.ttl)?.with_hash_limits(settings.hashing)
    }

    /// An `Auth` for unit tests: a fixed key and the cheapest Argon2id
    /// parameters, so a test hashes in microseconds. Never for production:
    /// anyone can forge its tokens.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let auth = microcore_auth::Auth::for_tests();
    /// let hash = auth.hash_password("hunter22").await.unwrap();
    /// assert!(auth.verify_password("hunter22", &hash).await);
    /// # }
    /// ```
    pub fn for_tests() -> Self {
        const TEST_KEY: &[u8] = b"microcore-auth-test-key-do-not-use-in-production";
        let cheap = argon2::Params::new(argon2::Params::MIN_M_COST, 1, 1, None).unwrap_or_default();
        Self::assemble(TEST_KEY, DEFAULT_TOKEN_TTL, cheap, HashLimits::default())
    }

    /// Builds from checked parts.
    fn assemble(key: &[u8], ttl: Duration, argon2: argon2::Params, limits: HashLimits) -> Self {
        crate::crypto::install();
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is exact: a token is refused from the second after `exp`.
        validation.leeway = 0;
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Self {
            inner: Arc::new(Inner {
                encoding: EncodingKey::from_secret(key),
                decoding: DecodingKey::from_secret(key),
                validation,
                ttl,
                argon2,
                decoy: OnceLock::new(),
                hashing: HashStage::new(limits),
                revocations: Revocations::default(),
            }),
            calls: Calls::default(),
            owner: "app",
        }
    }

    /// This `Auth` with another bound on password hashing (see
    /// [`HashLimits`]); the tool sets it from `AUTH_HASH_*`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use microcore_auth::{Auth, HashLimits};
    ///
    /// let limits = HashLimits { concurrency: 1, queue: 4, wait: Duration::from_millis(500) };
    /// let auth = Auth::for_tests().with_hash_limits(limits).unwrap();
    /// assert_eq!(auth.hash_limits(), limits);
    /// let e = Auth::for_tests().with_hash_limits(HashLimits { concurrency: 0, ..limits }).unwrap_err();
    /// assert!(e.to_string().starts_with("AUTH_HASH_CONCURRENCY"));
    /// ```
    ///
    /// # Errors
    /// A configuration error naming `AUTH_HASH_CONCURRENCY` when it is 0.
    pub fn with_hash_limits(self, limits: HashLimits) -> Result<Self, Error> {
        if limits.concurrency == 0 {
            return Err(Error::config(
                "AUTH_HASH_CONCURRENCY is invalid: expected a whole number of at least 1",
            ));
        }
        let inner = &self.inner;
        Ok(Self {
            inner: Arc::new(Inner {
                encoding: inner.encoding.clone(),
                decoding: inner.decoding.clone(),
                validation: inner.validation.clone(),
                ttl: inner.ttl,
                argon2: inner.argon2.clone(),
                decoy: OnceLock::new(),
                hashing: HashStage::new(limits),
                revocations: Revocations::default(),
            }),
            ..self
        })
    }

    /// The bound on password hashing.
    pub fn hash_limits(&self) -> HashLimits {
        self.inner.hashing.limits()
    }

    /// This handle, reporting its calls to `calls`. Each password hash or
    /// check and each token issued or verified is reported (tool `auth`,
    /// the plugin holding the copy, duration, success).
    ///
    /// ```
    /// let auth = microcore_auth::Auth::for_tests().with_calls(microcore_calls::Calls::default());
    /// assert!(auth.issue_for(1, "a@b.c", ["user"]).is_ok());
    /// ```
    pub fn with_calls(mut self, calls: Calls) -> Self {
        self.calls = calls;
        self
    }

    /// `work`, reported as one call of `method`.
    pub(crate) async fn timed<T, E>(
        &self,
        method: &'static str,
        work: impl Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        self.calls.timed("auth", method, self.owner, work).await
    }

    /// `work` (quick and synchronous), recorded like [`Auth::timed`].
    pub(crate) fn timed_sync<T, E>(
        &self,
        method: &'static str,
        work: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, E> {
        if !self.calls.is_recording() {
            return work();
        }
        let started = Instant::now();
        let outcome = work();
        self.calls.record(
            "auth",
            method,
            self.owner,
            started.elapsed(),
            outcome.is_ok(),
        );
        outcome
    }

    /// How long an issued token lives (`AUTH_TOKEN_TTL_SECS`, default 24 h).
    ///
    /// ```
    /// assert_eq!(microcore_auth::Auth::for_tests().token_ttl().as_secs(), 86_400);
    /// ```
    pub fn token_ttl(&self) -> Duration {
        self.inner.ttl
    }

    /// Makes [`AuthUser`](crate::AuthUser) work on every route of `router`.
    ///
    /// The tool does this for the app's router at setup; call it yourself
    /// only on a router you build by hand (tests).
    ///
    /// ```
    /// use axum::{Router, routing::get};
    /// use microcore_auth::{Auth, AuthUser};
    ///
    /// async fn me(user: AuthUser) -> String { user.email }
    /// let router = Auth::for_tests().attach(Router::new().route("/me", get(me)));
    /// # let _: Router = router;
    /// ```
    pub fn attach(&self, router: Router) -> Router {
        router.layer(Extension(self.clone()))
    }
}
