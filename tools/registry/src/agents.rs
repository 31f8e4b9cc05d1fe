//! `AGENTS.md`, the file coding agents look for at a project's root: how to
//! build, test and add a plugin, where `AI_CONTEXT.md` is, and the rules.
//! Its rules and common errors are cut from the authoring guide of
//! `AI_CONTEXT.md` ([`crate::context::GUIDE`]), so the two never disagree;
//! the example app's `AGENTS.md` is this text (a test holds it), and
//! `microcore new` writes the same file.

use crate::context::GUIDE;

const HEAD: &str = "# AGENTS.md

A microcore app: a kernel wires **tools** (infrastructure, one crate each
under `tools/` or from microcore) and **plugins** (features, one file each
under `domains/<domain>/plugins/`).

## Read first

`AI_CONTEXT.md` at the root is rewritten at every boot (`cargo run`) and by
`cargo run -- context` (run it once in a fresh checkout). It lists every tool's methods, every table, route
and event, and templates for a route, a subscriber, a scheduled job, a tool
and a test. It is all you need to write a plugin: do not edit it.

## Build, test, check

- `cargo build`; `cargo run` serves on <http://127.0.0.1:8000> with
  SQLite in `microcore.db` and an in-process bus: no service, no setting
  (`.env.example` lists them all). Without `AUTH_SECRET_KEY` (at least 32
  bytes) tokens are signed with a key made for this process, so a restart
  logs everyone out; production (`APP_ENV=production`) refuses to start
  without it. `DATABASE_URL=postgres://...` runs on PostgreSQL with the
  same migrations and queries (`cargo run --features postgres` where the
  root `Cargo.toml`'s `default` features lack `postgres`).
- `cargo test` (add `-p <crate>` or `--test <name>` to run fewer); a
  plugin's tests live in its own file (`#[cfg(test)] mod tests`).
- `cargo run -- check` checks the wiring, event contracts and architecture
  rules without serving.

## Add a plugin

Create `domains/<domain>/plugins/<feature>.rs` with `use crate::prelude::*;`
and a `#[plugin] pub struct <Feature> { .. }` whose fields are tool handles;
register routes, subscriptions and jobs in `on_boot`. No `mod` line, no
registration call. Tables go in `domains/<domain>/migrations/NNNN_name.sql`.
";

/// The text of `AGENTS.md`.
///
/// ```
/// let text = microcore_registry::agents::render();
/// assert!(text.starts_with("# AGENTS.md"));
/// assert!(text.contains("### Rules the checks enforce"));
/// ```
pub fn render() -> String {
    let rules = GUIDE
        .find("### Rules the checks enforce")
        .map_or("", |at| &GUIDE[at..]);
    format!("{HEAD}\n## Rules\n\n{}", rules.trim_start())
}
