//! GET /system/status, /system/health and /system/ready: what the app is
//! made of and whether it can serve.

use microcore::prelude::*;
use microcore_config::Config;
use microcore_http::Http;
use microcore_registry::Registry;
use serde::Serialize;
use utoipa::ToSchema;

/// Tools and plugins with their status; liveness and readiness probes.
#[plugin(domain = "system")]
#[derive(Debug)]
pub struct Status {
    http: Http,
    config: Config,
    registry: Registry,
}

/// The body of `/system/health`: the process answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct Alive {
    status: &'static str,
}

impl Plugin for Status {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        // Orchestrators probe these without credentials: outside the guard.
        let probes = self.http.group("/system");
        probes
            .get("/health", &self, Self::health)
            .summary("Liveness: the process answers (always public)");
        probes
            .get("/ready", &self, Self::ready)
            .summary("Readiness: every critical tool is healthy and no critical plugin is DEAD (always public)")
            .responds(503, "A critical tool is failing or a critical plugin is DEAD");
        if let Some(system) = crate::guarded(&self.http, &self.config)? {
            system
                .get("/system/status", &self, Self::status)
                .summary("Every tool and plugin with its status");
        }
        Ok(())
    }
}

impl Status {
    async fn health(self: Arc<Self>) -> Result<Alive> {
        Ok(Alive { status: "ok" })
    }

    async fn ready(self: Arc<Self>) -> Result<microcore_registry::ReadinessView> {
        let readiness = self.registry.readiness().await;
        if readiness.ready {
            return Ok(readiness);
        }
        let failing = readiness.failing.join("; ");
        Err(Error::business(format!("Not ready: {failing}")).with_status(503))
    }

    async fn status(self: Arc<Self>) -> Result<microcore_registry::StatusView> {
        Ok(self.registry.status().await)
    }
}
