//! POST /auth/logout: clears the session cookie and revokes the token
//! the request carried, on every replica.

use crate::prelude::*;
use axum::http::header::SET_COOKIE;

/// Logs out: the token is refused from now on, and the cookie cleared.
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
    async fn execute(self: Arc<Self>, MaybeAuthUser(user): MaybeAuthUser) -> Result<Reply<()>> {
        if let Some(user) = user {
            self.auth
                .revoke_token(&user.token_id, user.expires_at)
                .await?;
        }
        Ok(Reply::new(()).header(SET_COOKIE, self.auth.logout_cookie()))
    }
}
