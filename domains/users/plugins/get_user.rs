//! GET /users/{user_id}: one user; any logged-in caller may read anyone.

use crate::prelude::*;
use crate::users::models::{UserSummary, find_summary};

/// Reads one user.
#[plugin]
pub struct GetUser {
    http: Http,
    db: Db,
}

impl Plugin for GetUser {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        self.http
            .get("/users/{user_id}", &self, Self::execute)
            .summary("One user")
            .responds(404, "User not found");
        Ok(())
    }
}

impl GetUser {
    async fn execute(
        self: Arc<Self>,
        _user: AuthUser,
        Path(user_id): Path<i64>,
    ) -> Result<UserSummary> {
        find_summary(&self.db, user_id, "User not found").await
    }
}
