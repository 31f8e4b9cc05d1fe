//! DELETE /users/{user_id}: the owner deletes their account; publishes `user.deleted`.

use crate::prelude::*;
use crate::users::models::Users;
use sea_orm::EntityTrait;

/// Deletes one's own account.
#[plugin]
pub struct DeleteUser {
    http: Http,
    db: Db,
    auth: Auth,
    bus: EventBus,
}

/// The payload of `user.deleted`.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserDeleted {
    id: i64,
}

impl Plugin for DeleteUser {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        self.http
            .delete("/users/{user_id}", &self, Self::execute)
            .summary("Delete my account")
            .responds(403, "Not the owner")
            .responds(404, "User not found");
        self.bus.publishes::<UserDeleted>("user.deleted");
        Ok(())
    }
}

impl DeleteUser {
    async fn execute(self: Arc<Self>, user: AuthUser, Path(user_id): Path<i64>) -> Result<()> {
        if user.id != user_id.to_string() {
            return Err(Error::forbidden("Forbidden"));
        }
        // The delete itself says whether the user existed: of concurrent
        // deletes, exactly one removes the row, answers 200 and publishes.
        // It commits only once the tokens are revoked (if that cannot be
        // done, 503 and the user stays), with `user.deleted` in the outbox:
        // the bus's relay publishes it once committed, or once the bus is
        // back if it cannot be reached.
        self.db
            .transaction(async |txn| {
                let deleted = Users::delete_by_id(user_id).exec(txn).await?;
                if deleted.rows_affected == 0 {
                    return Err(Error::not_found("User not found"));
                }
                // Every token of the user is refused from now on, on every replica.
                self.auth.revoke_user(&user.id).await?;
                self.bus
                    .publish_in(txn, "user.deleted", &UserDeleted { id: user_id })
                    .await?;
                Ok(())
            })
            .await?;
        Ok(())
    }
}
