//! GET /users/me: the logged-in user's own profile.

use crate::prelude::*;
use crate::users::models::{UserProfile, find_user};

/// The caller's profile.
#[plugin]
pub struct Me {
    http: Http,
    db: Db,
}

impl Plugin for Me {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        self.http
            .get("/users/me", &self, Self::execute)
            .summary("My profile")
            .responds(404, "User no longer exists");
        Ok(())
    }
}

impl Me {
    async fn execute(self: Arc<Self>, user: AuthUser) -> Result<UserProfile> {
        let id = user.user_id::<i64>()?;
        Ok(find_user(&self.db, id, "User no longer exists")
            .await?
            .into())
    }
}
