//! The auth tool's lifecycle: check the key at boot, then make every route
//! able to extract an [`AuthUser`](crate::AuthUser).

use microcore::prelude::*;
use microcore_calls::Calls;
use microcore_config::Config;
use microcore_http::Http;
use microcore_state::State;

use crate::Auth;

/// The built-in auth tool: HS256 tokens and Argon2id hashes.
///
/// Not critical: if it fails for another reason, plugins that need it are
/// skipped and the rest of the app serves. A bad key is a configuration
/// error, which stops the boot whatever the tool's criticality.
#[tool]
#[derive(Debug)]
pub struct AuthTool {
    config: Config,
    http: Http,
    /// Where revocations are shared between replicas.
    state: State,
    /// Where each hash, check and token is reported.
    calls: Calls,
}

impl Tool for AuthTool {
    type Handle = Auth;

    async fn setup(&self, _: &ToolContext) -> Result<Auth> {
        let auth = Auth::from_config(&self.config)?;
        auth.share_revocations(self.state.clone()).await?;
        self.http.provide(auth.clone());
        tracing::debug!("auth ready: tokens live {} s", auth.token_ttl().as_secs());
        Ok(auth.with_calls(self.calls.clone()))
    }

    /// A generated key works, but not across restarts or replicas: `doctor`
    /// reports it so it is set before production.
    async fn health(&self) -> Health {
        match self.config.secret("AUTH_SECRET_KEY") {
            Some(_) => Health::Ok,
            None => Health::Failing(
                "AUTH_SECRET_KEY is not set: tokens are signed with a key generated at boot, which dies with the process; set it (at least 32 bytes, e.g. `openssl rand -hex 32`)".into(),
            ),
        }
    }
}
