//! PUT /users/{user_id}: the owner changes their name, e-mail or password.

use crate::prelude::*;
use crate::users::models::{Users, email_taken, normalize_email, user};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};

/// Updates one's own account.
#[plugin]
pub struct UpdateUser {
    http: Http,
    db: Db,
    auth: Auth,
}

/// The fields to change; each optional, same rules as registration.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct Changes {
    /// 1 to 100 characters.
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    name: Option<String>,
    /// A valid address, not another user's.
    #[validate(email)]
    #[schema(format = Email)]
    email: Option<String>,
    /// At least 8 characters; stored re-hashed.
    #[validate(length(min = 8))]
    #[schema(min_length = 8)]
    password: Option<String>,
}

impl Plugin for UpdateUser {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        self.http
            .put("/users/{user_id}", &self, Self::execute)
            .summary("Update my account")
            .responds(400, "No fields to update, or email already in use")
            .responds(403, "Not the owner")
            .responds(404, "User not found");
        Ok(())
    }
}

impl UpdateUser {
    async fn execute(
        self: Arc<Self>,
        user: AuthUser,
        Path(user_id): Path<i64>,
        Json(changes): Json<Changes>,
    ) -> Result<()> {
        if user.id != user_id.to_string() {
            return Err(Error::forbidden("Forbidden"));
        }
        if changes.name.is_none() && changes.email.is_none() && changes.password.is_none() {
            return Err(Error::business("No fields to update"));
        }
        let mut row = user::ActiveModel { ..Default::default() };
        if let Some(name) = changes.name {
            row.name = Set(name);
        }
        if let Some(email) = changes.email {
            row.email = Set(normalize_email(&email));
        }
        if let Some(password) = changes.password {
            // Hashed before the write: no database connection is held
            // while the hash takes its time.
            row.password_hash = Set(self.auth.hash_password(&password).await?);
        }
        // One conditional write, not a read then a write: a user deleted
        // in between (a concurrent DELETE) is simply no row updated.
        let updated = Users::update_many()
            .set(row)
            .filter(user::Column::Id.eq(user_id))
            .exec(&self.db)
            .await
            .map_err(email_taken)?;
        if updated.rows_affected == 0 {
            return Err(Error::not_found("User not found"));
        }
        Ok(())
    }
}
