//! GET /system/lint: what the running app can tell is wrong with its
//! wiring: event contracts, and the architecture checks (domain isolation
//! and table ownership, embedded at build time; plugin naming).

use crate::prelude::*;
use crate::system::models::{Caller, Policy};

/// Architecture findings of the running app.
#[plugin]
pub struct Lint {
    http: Http,
    config: Config,
    registry: Registry,
    #[state]
    policy: Policy,
}

impl Plugin for Lint {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        if !self.policy.load(&self.config)?.serves() {
            return Ok(());
        }
        self.http
            .get("/system/lint", &self, Self::findings)
            .summary("Architecture findings: event contracts, collisions, ownership")
            .responds(401, "SYSTEM_ROUTES=token and no valid token");
        Ok(())
    }
}

impl Lint {
    async fn findings(self: Arc<Self>, caller: Caller) -> Result<microcore_registry::Lint> {
        self.policy.allow(caller)?;
        Ok(self.registry.lint())
    }
}
