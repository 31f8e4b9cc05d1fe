//! GET /users: a page of users, by id.

use crate::prelude::*;
use crate::users::models::{UserSummary, Users, user};
use sea_orm::{EntityTrait, QueryOrder, QuerySelect};

/// Lists users for any logged-in caller.
#[plugin]
pub struct ListUsers {
    http: Http,
    db: Db,
}

/// Paging: `limit` 1..100 (default 50), `offset` ≥ 0 (default 0).
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Page {
    /// How many users, 1 to 100.
    #[serde(default = "default_limit")]
    #[validate(range(min = 1, max = 100))]
    #[param(minimum = 1, maximum = 100, default = 50)]
    limit: u64,
    /// How many to skip.
    #[serde(default)]
    #[validate(range(min = 0))]
    #[param(minimum = 0, default = 0)]
    offset: i64,
}

fn default_limit() -> u64 {
    50
}

/// One page of users.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserPage {
    users: Vec<UserSummary>,
    limit: u64,
    offset: i64,
}

impl Plugin for ListUsers {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        self.http
            .get("/users", &self, Self::execute)
            .summary("List users");
        Ok(())
    }
}

impl ListUsers {
    async fn execute(
        self: Arc<Self>,
        _user: AuthUser,
        Query(page): Query<Page>,
    ) -> Result<UserPage> {
        let rows = Users::find()
            .order_by_asc(user::Column::Id)
            .limit(page.limit)
            .offset(page.offset.unsigned_abs())
            .all(&self.db)
            .await?;
        Ok(UserPage {
            users: rows.into_iter().map(UserSummary::from).collect(),
            limit: page.limit,
            offset: page.offset,
        })
    }
}
