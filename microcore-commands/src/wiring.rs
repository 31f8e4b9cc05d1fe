//! What plugins register in `on_boot` (routes, subscriptions, jobs), for
//! `graph`: the plan shows the fields, a dry run of the boot shows the
//! rest. Tools that take registrations add a [`WiringDescriptor`] to
//! [`WIRING`] saying what each plugin registered through them.

use microcore::Running;

/// One thing a plugin registered in `on_boot`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Wire {
    /// The plugin (`<domain>.<Plugin>`).
    pub plugin: String,
    /// `route`, `publishes`, `subscribes`, `job`, ...
    pub kind: &'static str,
    /// What it is: `GET /users/{user_id}`, `user.deleted`,
    /// `nightly-report (0 0 3 * * *)`.
    pub name: String,
    /// For a `needs` wire, the tool it ties the plugin to (an extractor's
    /// tool: `AuthUser` needs `auth`).
    pub tool: Option<String>,
}

/// A tool crate's report of what plugins registered through it.
///
/// ```
/// use microcore_commands::wiring::{WIRING, Wire, WiringDescriptor};
///
/// #[microcore::__private::linkme::distributed_slice(WIRING)]
/// #[linkme(crate = microcore::__private::linkme)]
/// static NOTHING: WiringDescriptor = WiringDescriptor {
///     name: "nothing",
///     run: |_running| Vec::<Wire>::new(),
/// };
/// ```
#[derive(Debug)]
pub struct WiringDescriptor {
    /// A short name.
    pub name: &'static str,
    /// Reads the booted app.
    pub run: fn(&Running) -> Vec<Wire>,
}

/// Every linked crate's [`WiringDescriptor`].
#[linkme::distributed_slice]
pub static WIRING: [WiringDescriptor];

/// What every plugin of `running` registered, by plugin, then kind, then
/// name.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let running = microcore::App::new(vec![], vec![]).boot().await.unwrap();
/// assert!(microcore_commands::wiring::collect(&running).is_empty());
/// running.shutdown().await;
/// # }
/// ```
pub fn collect(running: &Running) -> Vec<Wire> {
    let mut wires: Vec<Wire> = WIRING.iter().flat_map(|w| (w.run)(running)).collect();
    for plugin in running.registry().plugins() {
        for need in plugin.needs {
            wires.push(Wire {
                plugin: plugin.name.clone(),
                kind: "needs",
                name: format!("{} (via {})", need.tool, need.via),
                tool: Some(need.tool),
            });
        }
    }
    wires.sort();
    wires.dedup();
    wires
}
