//! The boot error for a URL whose backend this build compiled out.

use microcore::Error;

/// A backend that a cargo feature of a tool crate compiles in (PostgreSQL,
/// Redis, NATS, OpenTelemetry are opt-in, so an app that does not use them
/// does not build their clients).
///
/// ```
/// use microcore_config::Backend;
///
/// const POSTGRES: Backend = Backend { name: "PostgreSQL", krate: "microcore-db", feature: "postgres" };
/// let e = POSTGRES.compiled_out("DATABASE_URL", "postgres://app:***@db/app");
/// let text = e.to_string();
/// assert!(text.starts_with("DATABASE_URL='postgres://app:***@db/app' needs PostgreSQL"));
/// assert!(text.contains("cargo feature 'postgres' of microcore-db is off"));
/// assert!(text.contains(r#"default = ["postgres"]"#));
/// assert!(text.contains(r#"features = ["postgres"] in the microcore-db line"#));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Backend {
    /// What the URL asks for, as people name it: `PostgreSQL`.
    pub name: &'static str,
    /// The tool crate whose feature compiles it in: `microcore-db`.
    pub krate: &'static str,
    /// That cargo feature: `postgres`.
    pub feature: &'static str,
}

impl Backend {
    /// The configuration error for `variable` (its value `shown`, secrets
    /// already masked) asking for this backend while its feature is off:
    /// it names the variable, the feature and the line that turns it on.
    pub fn compiled_out(&self, variable: &str, shown: &str) -> Error {
        let Self {
            name,
            krate,
            feature,
        } = self;
        Error::config(format!(
            "{variable}='{shown}' needs {name}, which this build leaves out: the cargo feature '{feature}' of {krate} is off\n  \
             = help: add this line under [features] in the app's Cargo.toml (or run once with `cargo run --features {feature}`):\n          \
             default = [\"{feature}\"]\n  \
             = help: an app with no [features] {feature} entry adds features = [\"{feature}\"] in the {krate} line under [dependencies]"
        ))
    }
}
