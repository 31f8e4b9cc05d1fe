//! POST /auth/logout: clears the session cookie (tokens are not revoked).

use crate::prelude::*;
use axum::http::header::SET_COOKIE;

/// Logs out by clearing the `access_token` cookie.
#[plugin]
pub struct Logout {
    http: Http,
    auth: Auth,
}

impl Plugin for Logout {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        self.http
            .post("/auth/logout", &self, Self::execute)
            .summary("Log out");
        Ok(())
    }
}

impl Logout {
    async fn execute(self: Arc<Self>) -> Result<Reply<()>> {
        Ok(Reply::new(()).header(SET_COOKIE, self.auth.logout_cookie()))
    }
}
