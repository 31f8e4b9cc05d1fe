//! Revoked tokens: logout refuses the token it was called with, deleting
//! a user refuses every token of that user (CONTRACT §1), on every replica.
//!
//! Every request checks a local table only (a map lookup under a lock):
//! no network round trip on the hot path. The table is filled from two
//! sides:
//! - this process's own revocations, applied at once;
//! - a log in the state tool, shared by the replicas on Redis: each
//!   revocation takes the next number of the counter `auth:revocations`
//!   and is stored at `auth:revocation:<n>` for one token lifetime. Each
//!   process reads the log at boot (the last [`BOOT_SCAN`] entries) and
//!   then follows it every [`POLL`], one `GET` of the counter per tick,
//!   so a token revoked on one replica is refused by the others within
//!   about that time.
//!
//! A token is refused when its `jti` is revoked, or when it was issued
//! (`iat`) at or before its user's revocation time. Entries leave the
//! table once every token they could match has expired, so it holds at
//! most one token lifetime of revocations.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use microcore::Error;
use microcore::sync::lock;
use microcore_state::State;
use serde::{Deserialize, Serialize};

use crate::{Auth, Claims};

/// How often a process reads the shared log for other replicas' revocations.
pub(crate) const POLL: Duration = Duration::from_millis(100);
/// How many of the latest log entries a process reads at boot.
pub(crate) const BOOT_SCAN: i64 = 10_000;
/// Reads the boot scan sends at once.
const BOOT_BATCH: usize = 64;
/// Ticks an entry may be missing while later ones exist (its writer took
/// its number and has not stored it yet) before it is passed over.
const PATIENCE: u32 = 20;

/// One revocation, as stored in the shared log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub(crate) enum Revocation {
    /// One token (`jti`), refused until it expires at `exp`.
    Token { jti: String, exp: u64 },
    /// Every token of user `sub` issued at or before `at`.
    User { sub: String, at: u64 },
}

/// The local table and, once the tool set it, the shared log.
#[derive(Debug, Default)]
pub(crate) struct Revocations {
    table: Mutex<Table>,
    log: OnceLock<State>,
}

#[derive(Debug, Default)]
struct Table {
    /// Revoked token ids, with their expiry.
    tokens: HashMap<String, u64>,
    /// Per user, the time at or before which their tokens are refused.
    users: HashMap<String, u64>,
    /// The last log entry applied.
    cursor: i64,
    /// Ticks the entry after the cursor has been missing.
    missing_for: u32,
}

impl Table {
    fn apply(&mut self, revocation: Revocation) {
        match revocation {
            Revocation::Token { jti, exp } => {
                self.tokens.insert(jti, exp);
            }
            Revocation::User { sub, at } => {
                let at = self.users.get(&sub).map_or(at, |known| at.max(*known));
                self.users.insert(sub, at);
            }
        }
    }

    fn refuses(&self, claims: &Claims) -> bool {
        (!claims.jti.is_empty() && self.tokens.contains_key(&claims.jti))
            || self
                .users
                .get(&claims.sub)
                .is_some_and(|at| claims.iat <= *at)
    }

    /// Drops entries no live token can match any more.
    fn forget_expired(&mut self, now: u64, ttl: u64) {
        self.tokens.retain(|_, exp| *exp >= now);
        self.users.retain(|_, at| at.saturating_add(ttl) >= now);
    }
}

fn log_key(n: i64) -> String {
    format!("revocation:{n}")
}

const COUNTER: &str = "revocations";

impl Revocations {
    fn refuses(&self, claims: &Claims) -> bool {
        lock(&self.table).refuses(claims)
    }

    /// Applies locally, then appends to the shared log (when set).
    async fn revoke(&self, revocation: Revocation, ttl: Duration) -> Result<(), Error> {
        lock(&self.table).apply(revocation.clone());
        let Some(log) = self.log.get() else {
            return Ok(());
        };
        let n = log.incr(COUNTER, 1, None).await?;
        log.set_json(&log_key(n), &revocation, Some(ttl)).await
    }

    /// Reads the log from where this process stopped; returns whether it
    /// is caught up.
    async fn follow(&self, log: &State, boot: bool) -> Result<(), Error> {
        let head = log
            .get(COUNTER)
            .await?
            .and_then(|n| n.parse::<i64>().ok())
            .unwrap_or(0);
        let mut next = {
            let mut table = lock(&self.table);
            if boot {
                table.cursor = table.cursor.max(head - BOOT_SCAN);
            }
            table.cursor + 1
        };
        while next <= head {
            let batch: Vec<i64> = (next..=head).take(BOOT_BATCH).collect();
            let keys: Vec<String> = batch.iter().map(|n| log_key(*n)).collect();
            let reads = keys.iter().map(|key| log.get_json::<Revocation>(key));
            let entries = futures::future::join_all(reads).await;
            let mut table = lock(&self.table);
            for (n, entry) in batch.iter().zip(entries) {
                match entry? {
                    Some(revocation) => table.apply(revocation),
                    // At boot a missing entry has expired; later it may be
                    // in flight: wait for it a little before passing over.
                    None if !boot && table.missing_for < PATIENCE => {
                        table.missing_for += 1;
                        return Ok(());
                    }
                    None => {}
                }
                table.cursor = *n;
                table.missing_for = 0;
            }
            next = table.cursor + 1;
        }
        Ok(())
    }
}

#[microcore::tool]
impl Auth {
    /// Refuses the token `token_id` until `expires_at`: what a logout does.
    /// `token_id` is its `jti` ([`AuthUser::token_id`](crate::AuthUser::token_id));
    /// refused on this process at once and on every replica sharing the
    /// state tool within a tenth of a second. A token with no id is left alone.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let auth = microcore_auth::Auth::for_tests();
    /// let token = auth.issue_for(7, "ada@example.com", ["user"]).unwrap();
    /// let claims = auth.verify(&token).unwrap();
    /// assert!(auth.check(&claims).is_ok());
    /// auth.revoke_token(&claims.jti, claims.exp).await.unwrap();
    /// assert_eq!(auth.check(&claims).unwrap_err().kind(), microcore::ErrorKind::Unauthenticated);
    /// # }
    /// ```
    ///
    /// # Errors
    /// 503 when the shared log cannot be written (the token is refused by
    /// this process already).
    pub async fn revoke_token(&self, token_id: &str, expires_at: u64) -> Result<(), Error> {
        if token_id.is_empty() {
            // A token with no id cannot be told apart from its siblings.
            return Ok(());
        }
        let revocation = Revocation::Token {
            jti: token_id.to_owned(),
            exp: expires_at,
        };
        let ttl = Duration::from_secs(expires_at.saturating_sub(now())).max(Duration::from_secs(1));
        self.inner.revocations.revoke(revocation, ttl).await
    }

    /// Refuses every token of user `sub` issued until now: what deleting
    /// the user does. Tokens issued afterwards are accepted.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let auth = microcore_auth::Auth::for_tests();
    /// let claims = auth.claims_for(7, "ada@example.com", ["user"]);
    /// auth.revoke_user("7").await.unwrap();
    /// assert!(auth.check(&claims).is_err());
    /// assert!(auth.check(&auth.claims_for(8, "bo@example.com", ["user"])).is_ok());
    /// # }
    /// ```
    ///
    /// # Errors
    /// 503 when the shared log cannot be written.
    pub async fn revoke_user(&self, sub: &str) -> Result<(), Error> {
        let revocation = Revocation::User {
            sub: sub.to_owned(),
            at: now(),
        };
        self.inner
            .revocations
            .revoke(revocation, self.inner.ttl)
            .await
    }

    /// Whether `claims` (of a token [`Auth::verify`] accepted) were revoked:
    /// a local lookup, no network. The [`AuthUser`](crate::AuthUser)
    /// extractor calls it on every request.
    ///
    /// # Errors
    /// 401 `"Invalid or expired token"` for a revoked token.
    pub fn check(&self, claims: &Claims) -> Result<(), Error> {
        if self.inner.revocations.refuses(claims) {
            Err(Error::unauthenticated(crate::token::INVALID_TOKEN))
        } else {
            Ok(())
        }
    }

    /// Shares revocations through `state` (the tool does this at setup):
    /// reads the log written so far, then follows it in a background task
    /// that ends with the runtime.
    ///
    /// # Errors
    /// 503 when the state cannot be read at boot.
    pub(crate) async fn share_revocations(&self, state: State) -> Result<(), Error> {
        let log = state.namespace("auth").unrecorded();
        let revocations = &self.inner.revocations;
        revocations.follow(&log, true).await?;
        let _ = revocations.log.set(log.clone());
        let (auth, ttl) = (
            std::sync::Arc::downgrade(&self.inner),
            self.inner.ttl.as_secs(),
        );
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(POLL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                // The handle is gone (the app stopped): so is the need.
                let Some(inner) = auth.upgrade() else { return };
                if let Err(e) = inner.revocations.follow(&log, false).await {
                    tracing::warn!("cannot read the shared revocations: {e}");
                }
                lock(&inner.revocations.table).forget_expired(now(), ttl);
            }
        });
        Ok(())
    }
}

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn another_process_learns_of_a_revocation_through_the_shared_state() {
        let state = State::memory();
        let (a, b) = (Auth::for_tests(), Auth::for_tests());
        let before = a.claims_for(1, "a@b.c", ["user"]);
        let early = a.claims_for(2, "x@b.c", ["user"]);
        a.revoke_token(&early.jti, early.exp).await.unwrap();
        a.share_revocations(state.clone()).await.unwrap();
        a.revoke_user("1").await.unwrap();
        let token = a.claims_for(3, "c@b.c", ["user"]);
        a.revoke_token(&token.jti, token.exp).await.unwrap();
        // b boots after both: it reads them at boot.
        b.share_revocations(state.clone()).await.unwrap();
        assert!(b.check(&before).is_err());
        assert!(b.check(&token).is_err());
        // And follows what comes later.
        let later = a.claims_for(4, "d@b.c", ["user"]);
        assert!(b.check(&later).is_ok());
        a.revoke_token(&later.jti, later.exp).await.unwrap();
        tokio::time::sleep(POLL * 3).await;
        assert!(b.check(&later).is_err());
    }

    #[test]
    fn a_token_issued_after_the_user_revocation_is_accepted_and_entries_expire() {
        let mut table = Table::default();
        table.apply(Revocation::User {
            sub: "1".into(),
            at: 100,
        });
        table.apply(Revocation::User {
            sub: "1".into(),
            at: 90,
        });
        let claims = |iat| Claims {
            sub: "1".into(),
            email: String::new(),
            roles: vec![],
            exp: iat + 10,
            iat,
            jti: String::new(),
        };
        assert!(table.refuses(&claims(100)));
        assert!(!table.refuses(&claims(101)));
        table.forget_expired(111, 10);
        assert!(table.users.is_empty());
    }

    #[tokio::test]
    async fn an_entry_in_flight_is_waited_for_then_passed_over() {
        let state = State::memory().namespace("auth");
        let revocations = Revocations::default();
        state.incr(COUNTER, 1, None).await.unwrap();
        let second = Revocation::Token {
            jti: "j2".into(),
            exp: u64::MAX,
        };
        let n = state.incr(COUNTER, 1, None).await.unwrap();
        state.set_json(&log_key(n), &second, None).await.unwrap();
        for _ in 0..PATIENCE {
            revocations.follow(&state, false).await.unwrap();
            assert_eq!(lock(&revocations.table).cursor, 0);
        }
        revocations.follow(&state, false).await.unwrap();
        assert_eq!(lock(&revocations.table).cursor, 2);
        assert!(lock(&revocations.table).tokens.contains_key("j2"));
    }
}
