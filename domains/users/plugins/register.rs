//! POST /users: register a user; publishes `user.created`.

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
    name: String,
    /// A valid address.
    #[validate(email)]
    email: String,
    /// At least 8 characters.
    #[validate(length(min = 8))]
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
    async fn execute(self: Arc<Self>, Json(form): Json<Registration>) -> Result<UserProfile> {
        let password_hash = self.auth.hash_password(&form.password).await?;
        let roles = vec!["user".to_string()];
        let row = user::ActiveModel {
            name: Set(form.name),
            email: Set(normalize_email(&form.email)),
            password_hash: Set(password_hash),
            roles: Set(serde_json::to_string(&roles)?),
            ..Default::default()
        }
        .insert(&*self.db)
        .await
        .map_err(email_taken)?;
        let profile = UserProfile::from(row);
        self.bus
            .publish(
                "user.created",
                &UserCreated {
                    id: profile.id,
                    email: profile.email.clone(),
                    roles,
                },
            )
            .await?;
        Ok(profile)
    }
}
