//! The activity digest: `GET /users/me/digest` tells the caller where the
//! community stands (their profile, how many users there are) and asks
//! for a digest e-mail (`digest.requested`); every day at 07:00 UTC a job
//! publishes the day's summary (`digest.daily`) for whoever sends digests.

use crate::prelude::*;
use crate::users::models::find_user;
use sea_orm::{ConnectionTrait, Statement};

/// Serves the caller's digest and publishes the daily summary.
#[plugin]
pub struct ActivityDigest {
    http: Http,
    db: Db,
    bus: EventBus,
    scheduler: Scheduler,
}

/// The caller's digest.
#[derive(Debug, Serialize, ToSchema)]
pub struct Digest {
    /// The caller's id.
    user_id: i64,
    /// The caller's name.
    name: String,
    /// How many users are registered.
    total_users: i64,
}

/// `digest.requested`: a user asked for their digest.
#[derive(Debug, Serialize, ToSchema)]
pub struct DigestRequested {
    /// Who asked.
    user_id: i64,
    /// Where to send it.
    email: String,
}

/// `digest.daily`: the day's summary, once a day.
#[derive(Debug, Serialize, ToSchema)]
pub struct DailyDigest {
    /// How many users are registered.
    total_users: i64,
    /// The fire it belongs to (UTC).
    scheduled: String,
}

impl Plugin for ActivityDigest {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        self.bus.publishes::<DigestRequested>("digest.requested");
        self.bus.publishes::<DailyDigest>("digest.daily");
        self.http
            .get("/users/me/digest", &self, Self::execute)
            .summary("The caller's activity digest")
            .responds(404, "User no longer exists");
        // Six fields, seconds first: every day at 07:00:00 UTC.
        self.scheduler
            .cron("users.activity-digest", "0 0 7 * * *", &self, Self::daily)?;
        Ok(())
    }
}

impl ActivityDigest {
    async fn execute(self: Arc<Self>, user: AuthUser) -> Result<Digest> {
        let id: i64 = user.user_id()?;
        self.digest(id).await
    }

    /// The digest of user `id`, announced on `digest.requested`.
    async fn digest(&self, id: i64) -> Result<Digest> {
        let found = find_user(&self.db, id, "User no longer exists").await?;
        let total_users = self.total_users().await?;
        self.bus
            .publish(
                "digest.requested",
                &DigestRequested {
                    user_id: found.id,
                    email: found.email,
                },
            )
            .await?;
        Ok(Digest {
            user_id: found.id,
            name: found.name,
            total_users,
        })
    }

    async fn daily(self: Arc<Self>, run: JobRun) -> Result<()> {
        let total_users = self.total_users().await?;
        self.bus
            .publish(
                "digest.daily",
                &DailyDigest {
                    total_users,
                    scheduled: run.scheduled.to_string(),
                },
            )
            .await?;
        Ok(())
    }

    async fn total_users(&self) -> Result<i64> {
        let sql = Statement::from_sql_and_values(
            self.db.backend(),
            "SELECT COUNT(*) AS total FROM users",
            [],
        );
        let row = self.db.query_one_raw(sql).await?;
        let total: Option<i64> = row.map(|r| r.try_get("", "total")).transpose()?;
        Ok(total.unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn plugin(bus: &EventBus) -> Arc<ActivityDigest> {
        Arc::new(ActivityDigest {
            http: Http::detached(),
            db: Db::memory().await.unwrap(),
            bus: bus.clone(),
            scheduler: Scheduler::memory().await.unwrap(),
        })
    }

    async fn add_user(digest: &ActivityDigest, name: &str, email: &str) -> i64 {
        digest
            .db
            .execute_unprepared(&format!(
                "INSERT INTO users (name, email, password_hash, roles) VALUES ('{name}', '{email}', 'x', '[\"user\"]')"
            ))
            .await
            .unwrap();
        let row = digest
            .db
            .query_one_raw(Statement::from_sql_and_values(
                digest.db.backend(),
                "SELECT id FROM users WHERE email = $1",
                [email.into()],
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get("", "id").unwrap()
    }

    #[tokio::test]
    async fn counts_the_users_and_announces_the_request() {
        let bus = EventBus::recording();
        let digest = plugin(&bus).await;
        let ada = add_user(&digest, "Ada", "ada@example.com").await;
        add_user(&digest, "Grace", "grace@example.com").await;
        let answer = digest.digest(ada).await.unwrap();
        assert_eq!((answer.user_id, answer.name.as_str(), answer.total_users), (ada, "Ada", 2));
        bus.assert_published(
            "digest.requested",
            serde_json::json!({"user_id": ada, "email": "ada@example.com"}),
        );
    }

    #[tokio::test]
    async fn a_deleted_user_gets_404_and_nothing_is_published() {
        let bus = EventBus::recording();
        let digest = plugin(&bus).await;
        let error = digest.digest(42).await.unwrap_err();
        assert!(error.to_string().contains("User no longer exists"), "{error}");
        bus.assert_not_published("digest.requested");
    }
}
