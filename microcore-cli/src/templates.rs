//! The files `new` and `add` write, kept as plain files under
//! `microcore-cli/templates/` so they read like the code they become.
//! Everything here belongs to the app: the build scripts are one call
//! each into `microcore-build`, so upgrading microcore upgrades them.

/// The root `Cargo.toml`: workspace and app package.
pub(crate) const ROOT_MANIFEST: &str = include_str!("../templates/Cargo.toml.tmpl");
/// The app's `build.rs`: `microcore_build::app()`.
pub(crate) const ROOT_BUILD: &str = include_str!("../templates/build.rs.tmpl");
/// `src/main.rs`.
pub(crate) const MAIN: &str = include_str!("../templates/main.rs.tmpl");
/// `src/lib.rs`.
pub(crate) const LIB: &str = include_str!("../templates/lib.rs.tmpl");
/// `README.md`.
pub(crate) const README: &str = include_str!("../templates/README.md.tmpl");
/// `AGENTS.md`: this checkout's, which a test keeps equal to what
/// `cargo run -- agents` generates from the authoring guide.
pub(crate) const AGENTS: &str = include_str!("../../AGENTS.md");
/// `.gitignore`.
pub(crate) const GITIGNORE: &str = include_str!("../templates/gitignore.tmpl");
/// `Dockerfile`: a multi-stage build, the release binary run as a
/// non-root user, a HEALTHCHECK on `/system/health`.
pub(crate) const DOCKERFILE: &str = include_str!("../templates/Dockerfile.tmpl");
/// `.env.example`: every variable the app reads, with its default.
pub(crate) const ENV_EXAMPLE: &str = include_str!("../templates/env.example.tmpl");
/// `domains/Cargo.toml`.
pub(crate) const DOMAINS_MANIFEST: &str = include_str!("../templates/domains.Cargo.toml.tmpl");
/// `domains/build.rs`: `microcore_build::domains()`.
pub(crate) const DOMAINS_BUILD: &str = include_str!("../templates/domains.build.rs.tmpl");
/// `domains/lib.rs`.
pub(crate) const DOMAINS_LIB: &str = include_str!("../templates/domains.lib.rs.tmpl");
/// `domains/prelude.rs`.
pub(crate) const DOMAINS_PRELUDE: &str = include_str!("../templates/domains.prelude.rs.tmpl");
/// `domains/ping/plugins/ping.rs`.
pub(crate) const PING: &str = include_str!("../templates/ping.rs.tmpl");
/// `domains/<domain>/models.rs`.
pub(crate) const MODELS: &str = include_str!("../templates/models.rs.tmpl");
/// `domains/<domain>/migrations/NNNN_<name>.sql`.
pub(crate) const MIGRATION: &str = include_str!("../templates/migration.sql.tmpl");
/// `tools/<tool>/Cargo.toml`.
pub(crate) const TOOL_MANIFEST: &str = include_str!("../templates/tool.Cargo.toml.tmpl");
/// `tools/<tool>/src/lib.rs`.
pub(crate) const TOOL_LIB: &str = include_str!("../templates/tool.lib.rs.tmpl");

/// `template` with every `{{key}}` replaced by its value, in one pass (a
/// value holding `{{` is written as it is).
///
/// # Panics
/// If a placeholder has no value: a template and its caller disagree,
/// which the unit tests catch.
pub(crate) fn render(template: &str, vars: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .unwrap_or_else(|| panic!("unclosed placeholder in a template: {after:.40}"));
        let key = &after[..end];
        let value = vars
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
            .unwrap_or_else(|| panic!("template placeholder {{{{{key}}}}} was left unfilled"));
        out.push_str(value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_replaced() {
        assert_eq!(render("a {{x}} b {{x}}", &[("x", "1")]), "a 1 b 1");
        assert_eq!(render("{{x}}", &[("x", "{{y}}")]), "{{y}}");
    }

    /// Every variable of docs/configuration.md (a new app links every
    /// tool that reads one) is in
    /// `.env.example`, so a variable added to the docs is not forgotten here.
    #[test]
    fn env_example_lists_every_documented_variable() {
        let docs = include_str!("../../docs/configuration.md");
        let documented: Vec<&str> = docs
            .lines()
            .filter_map(|l| l.strip_prefix("| `")?.split('`').next())
            .filter(|v| v.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'))
            .collect();
        assert!(documented.len() > 30, "{documented:?}");
        for var in documented {
            assert!(
                ENV_EXAMPLE.contains(&format!("# {var}=")),
                "{var} is in docs/configuration.md but not in templates/env.example.tmpl"
            );
        }
    }

    #[test]
    #[should_panic(expected = "unfilled")]
    fn a_forgotten_placeholder_is_caught() {
        render("{{missing}}", &[]);
    }
}
