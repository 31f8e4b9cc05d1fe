//! The auth tool's lifecycle: check the key at boot, then make every route
//! able to extract an [`AuthUser`](crate::AuthUser).

use microcore::prelude::*;
use microcore_config::Config;
use microcore_http::Http;

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
}

impl Tool for AuthTool {
    type Handle = Auth;

    async fn setup(&self, _: &ToolContext) -> Result<Auth> {
        let auth = Auth::from_config(&self.config)?;
        let attached = auth.clone();
        self.http.layer(move |router| attached.attach(router));
        tracing::debug!("auth ready: tokens live {} s", auth.token_ttl().as_secs());
        Ok(auth)
    }
}
