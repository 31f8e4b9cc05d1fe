//! GET /system/lint: what the running app can tell is wrong with its
//! wiring: event contracts, and the architecture checks (domain isolation
//! and table ownership, embedded at build time; plugin naming).

use microcore::prelude::*;
use microcore_config::Config;
use microcore_http::Http;
use microcore_registry::Registry;

/// Architecture findings of the running app.
#[plugin(domain = "system")]
#[derive(Debug)]
pub struct Lint {
    http: Http,
    config: Config,
    registry: Registry,
}

impl Plugin for Lint {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        if let Some(system) = crate::guarded(&self.http, &self.config)? {
            system
                .get("/system/lint", &self, Self::findings)
                .summary("Architecture findings: event contracts, collisions, ownership");
        }
        Ok(())
    }
}

impl Lint {
    async fn findings(self: Arc<Self>) -> Result<microcore_registry::LintView> {
        Ok(self.registry.lint())
    }
}
