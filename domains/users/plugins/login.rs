//! POST /auth/login: a token for a right e-mail and password, with
//! per-e-mail throttling in the state tool.

use std::time::Duration;

use crate::prelude::*;
use crate::users::models::{Users, normalize_email, roles_of, user};
use axum::http::header::SET_COOKIE;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

/// Failed attempts allowed per e-mail in one window.
const MAX_FAILURES: i64 = 5;
/// The window starts at the first failure and is not extended by later ones.
const WINDOW: Duration = Duration::from_secs(900);

/// Logs a user in.
#[plugin]
pub struct Login {
    http: Http,
    db: Db,
    auth: Auth,
    state: State,
}

/// The login form.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct Credentials {
    /// The account's e-mail.
    #[validate(length(min = 1))]
    #[schema(min_length = 1)]
    email: String,
    /// The account's password.
    #[validate(length(min = 1))]
    #[schema(min_length = 1)]
    password: String,
}

/// A session token (also set as the `access_token` cookie).
#[derive(Debug, Serialize, ToSchema)]
pub struct Session {
    token: String,
}

impl Plugin for Login {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        self.http
            .post("/auth/login", &self, Self::execute)
            .summary("Log in")
            .responds(400, "Invalid email or password")
            .responds(429, "Too many attempts");
        Ok(())
    }
}

impl Login {
    async fn execute(self: Arc<Self>, Json(form): Json<Credentials>) -> Result<Reply<Session>> {
        let email = normalize_email(&form.email);
        let attempts = self.state.namespace("login_failures");
        // Reserve the attempt before checking the password: the counter is
        // incremented atomically first, so however many guesses arrive at
        // once, at most MAX_FAILURES of them are ever checked per window.
        let reserved = attempts.incr(&email, 1, Some(WINDOW)).await?;
        if reserved > MAX_FAILURES {
            return Err(too_many());
        }
        let found = Users::find()
            .filter(user::Column::Email.eq(email.as_str()))
            .one(&self.db)
            .await?;
        let hash = found.as_ref().map(|u| u.password_hash.as_str());
        // A check refused by a saturated hashing stage (503) keeps its
        // reservation: giving it back could reopen a window that ended.
        let verified = self
            .auth
            .verify_password_or_decoy(&form.password, hash)
            .await?;
        let Some(user) = found.filter(|_| verified) else {
            return Err(Error::business("Invalid email or password"));
        };
        attempts.delete(&email).await?;
        let token = self
            .auth
            .issue_for(user.id, user.email, roles_of(&user.roles))?;
        let cookie = self.auth.login_cookie(&token);
        Ok(Reply::new(Session { token }).header(SET_COOKIE, cookie))
    }
}

fn too_many() -> Error {
    Error::business("Too many attempts. Try again later.").with_status(429)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn five_failures_block_even_the_right_password() {
        let (db, auth, state) = (
            Db::memory().await.unwrap(),
            Auth::for_tests(),
            State::memory(),
        );
        let hash = auth.hash_password("password1").await.unwrap();
        sea_orm::ConnectionTrait::execute_unprepared(
            &db,
            &format!("INSERT INTO users (name, email, password_hash) VALUES ('T', 't@example.com', '{hash}')"),
        )
        .await
        .unwrap();
        let login = Arc::new(Login {
            http: Http::detached(),
            db,
            auth,
            state: state.clone(),
        });
        let attempt = |password: &str| {
            login.clone().execute(Json(Credentials {
                email: "t@example.com".into(),
                password: password.into(),
            }))
        };
        for _ in 0..5 {
            assert_eq!(
                attempt("wrong").await.unwrap_err().kind(),
                ErrorKind::Business(400)
            );
        }
        assert_eq!(
            attempt("password1").await.unwrap_err().kind(),
            ErrorKind::Business(429)
        );
        let window = state
            .namespace("login_failures")
            .ttl("t@example.com")
            .await
            .unwrap()
            .unwrap();
        assert!(window <= WINDOW && window > WINDOW - Duration::from_secs(60));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_parallel_burst_gets_no_more_checks_than_the_limit() {
        let (db, auth) = (Db::memory().await.unwrap(), Auth::for_tests());
        let login = Arc::new(Login {
            http: Http::detached(),
            db,
            auth,
            state: State::memory(),
        });
        let burst = (0..40).map(|_| {
            let login = login.clone();
            tokio::spawn(async move {
                login
                    .execute(Json(Credentials {
                        email: "nobody@example.com".into(),
                        password: "guess".into(),
                    }))
                    .await
                    .unwrap_err()
                    .kind()
            })
        });
        let mut kinds = Vec::new();
        for task in burst.collect::<Vec<_>>() {
            kinds.push(task.await.unwrap());
        }
        let checked = kinds.iter().filter(|k| **k == ErrorKind::Business(400)).count();
        let throttled = kinds.iter().filter(|k| **k == ErrorKind::Business(429)).count();
        assert_eq!((checked, throttled), (5, 35), "{kinds:?}");
    }
}
