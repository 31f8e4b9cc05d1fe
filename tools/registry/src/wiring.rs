//! What `graph` shows under each plugin: its routes, the events it
//! publishes and reads, and its jobs, from the registry of a dry run.

use std::collections::BTreeSet;

use microcore::Running;
use microcore_commands::wiring::{WIRING, Wire, WiringDescriptor};
use microcore_event_bus::EventBus;
use microcore_event_bus::topology::Role;

use crate::Registry;

#[microcore::__private::linkme::distributed_slice(WIRING)]
#[linkme(crate = microcore::__private::linkme)]
static REGISTERED: WiringDescriptor = WiringDescriptor {
    name: "registry",
    run: wires,
};

fn wires(running: &Running) -> Vec<Wire> {
    running
        .handle::<Registry>()
        .map_or_else(Vec::new, |r| of(&r))
}

/// Every route, event role and job of every plugin `registry` knows.
///
/// ```
/// let kernel = microcore::registry::AppRegistry::new();
/// let registry = microcore_registry::Registry::new(kernel, microcore_http::Http::detached());
/// assert!(microcore_registry::wiring::of(&registry).is_empty());
/// ```
pub fn of(registry: &Registry) -> Vec<Wire> {
    let mut wires: BTreeSet<Wire> = registry
        .routes()
        .into_iter()
        .map(|r| Wire {
            plugin: r.plugin.to_string(),
            kind: "route",
            name: format!("{} {}", r.method, r.path),
            tool: None,
        })
        .collect();
    for topic in registry.bus().map(EventBus::topology).unwrap_or_default() {
        for schema in &topic.schemas {
            let kind = match schema.role {
                Role::Publisher => "publishes",
                Role::Subscriber => "subscribes",
            };
            wires.insert(Wire {
                plugin: schema.plugin.clone(),
                kind,
                name: topic.event.clone(),
                tool: None,
            });
        }
    }
    for job in registry.declared_jobs() {
        wires.insert(Wire {
            plugin: job.plugin,
            kind: "job",
            name: format!("{} ({})", job.name, job.schedule),
            tool: None,
        });
    }
    wires.into_iter().collect()
}
