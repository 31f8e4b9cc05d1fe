//! POST /users: register a user (201); publishes `user.created`.

use crate::prelude::*;
use crate::users::models::{UserProfile, email_taken, normalize_email, user};
use sea_orm::{ActiveModelTrait, Set};

/// Creates an account with the role `user`.
#[plugin]
pub struct RegisterUser {
    http: Http,
    db: Db,
    auth: Auth,
    bus: EventBus,
}

/// The registration form.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct Registration {
    /// 1 to 100 characters.
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    name: String,
    /// A valid address.
    #[validate(email)]
    #[schema(format = Email)]
    email: String,
    /// At least 8 characters.
    #[validate(length(min = 8))]
    #[schema(min_length = 8)]
    password: String,
}

/// The payload of `user.created`.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserCreated {
    id: i64,
    email: String,
    roles: Vec<String>,
}

impl Plugin for RegisterUser {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        self.http
            .post("/users", &self, Self::execute)
            .summary("Register a user")
            .responds(400, "Email already in use");
        self.bus.publishes::<UserCreated>("user.created");
        Ok(())
    }
}

impl RegisterUser {
    async fn execute(self: Arc<Self>, Json(form): Json<Registration>) -> Result<Created<UserProfile>> {
        let password_hash = self.auth.hash_password(&form.password).await?;
        let roles = vec!["user".to_string()];
        // The row and its event stand or fall together: `user.created` goes
        // to the outbox in the same transaction, and the bus's relay
        // publishes it once committed. A bus that cannot be reached delays
        // the event (201 all the same); a failed commit publishes nothing.
        let profile = self
            .db
            .transaction(async |txn| {
                let row = user::ActiveModel {
                    name: Set(form.name),
                    email: Set(normalize_email(&form.email)),
                    password_hash: Set(password_hash),
                    roles: Set(serde_json::to_string(&roles)?),
                    ..Default::default()
                }
                .insert(txn)
                .await
                .map_err(email_taken)?;
                let profile = UserProfile::from(row);
                self.bus
                    .publish_in(
                        txn,
                        "user.created",
                        &UserCreated {
                            id: profile.id,
                            email: profile.email.clone(),
                            roles,
                        },
                    )
                    .await?;
                Ok(profile)
            })
            .await?;
        Ok(Created::new(profile))
    }
}

/// A plugin test is a struct literal of real in-memory tools and a call to
/// the handler: no app, no container, no socket.
#[cfg(test)]
mod tests {
    use super::*;

    async fn plugin(bus: &EventBus) -> Arc<RegisterUser> {
        Arc::new(RegisterUser {
            http: Http::detached(),
            db: Db::memory().await.unwrap(),
            auth: Auth::for_tests(),
            bus: bus.clone(),
        })
    }

    fn form(email: &str) -> Json<Registration> {
        Json(Registration {
            name: "Ada".into(),
            email: email.into(),
            password: "correct horse".into(),
        })
    }

    #[tokio::test]
    async fn registers_and_announces_the_user() {
        let bus = EventBus::recording();
        let register = plugin(&bus).await;
        let profile = register
            .execute(form("Ada@Example.COM"))
            .await
            .unwrap()
            .into_body();
        assert_eq!(profile.email, "Ada@example.com");
        assert_eq!(profile.roles, ["user"]);
        bus.assert_published(
            "user.created",
            serde_json::json!({"id": profile.id, "email": "Ada@example.com", "roles": ["user"]}),
        );
    }

    #[tokio::test]
    async fn a_taken_email_is_a_business_error_and_nothing_is_published() {
        let bus = EventBus::recording();
        let register = plugin(&bus).await;
        register
            .clone()
            .execute(form("ada@example.com"))
            .await
            .unwrap();
        bus.clear_published();
        let err = register.execute(form("ada@EXAMPLE.com")).await.unwrap_err();
        assert_eq!(
            (err.kind(), err.message()),
            (ErrorKind::Business(400), "Email already in use")
        );
        bus.assert_not_published("user.created");
    }
}
