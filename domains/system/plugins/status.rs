//! GET /system/status, /system/health and /system/ready: what the app is
//! made of and whether it can serve.

use crate::prelude::*;
use crate::system::models::{Caller, Policy};

/// Tools and plugins with their status; liveness and readiness probes.
#[plugin]
pub struct Status {
    http: Http,
    config: Config,
    registry: Registry,
    #[state]
    policy: Policy,
}

/// The body of `/system/health`: the process answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct Alive {
    status: &'static str,
}

impl Plugin for Status {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        let access = self.policy.load(&self.config)?;
        let http = self.http.group("/system");
        http.get("/health", &self, Self::health)
            .summary("Liveness: the process answers (always public)");
        http.get("/ready", &self, Self::ready)
            .summary("Readiness: every critical tool is healthy (always public)")
            .responds(503, "A critical tool is failing");
        if access.serves() {
            http.get("/status", &self, Self::status)
                .summary("Every tool and plugin with its status")
                .responds(401, "SYSTEM_ROUTES=token and no valid token");
        }
        Ok(())
    }
}

impl Status {
    async fn health(self: Arc<Self>) -> Result<Alive> {
        Ok(Alive { status: "ok" })
    }

    async fn ready(self: Arc<Self>) -> Result<microcore_registry::Readiness> {
        let readiness = self.registry.readiness().await;
        if readiness.ready {
            return Ok(readiness);
        }
        let failing: Vec<String> = readiness
            .tools
            .iter()
            .filter(|t| t.critical && !t.message.is_empty())
            .map(|t| format!("{} ({})", t.name, t.message))
            .collect();
        Err(Error::business(format!("Not ready: {}", failing.join(", "))).with_status(503))
    }

    async fn status(self: Arc<Self>, caller: Caller) -> Result<microcore_registry::Status> {
        self.policy.allow(caller)?;
        Ok(self.registry.status().await)
    }
}
