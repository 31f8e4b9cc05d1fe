//! `AI_CONTEXT.md` holds every tool's API and guide: a public method of a
//! handle that `#[tool]` does not record, or a tool crate without its
//! `AI.md`, fails here, so the file never silently falls behind the code.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use microcore::api::blocks;

/// Every `.rs` file under `dir`, sorted.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()) {
        if entry.is_dir() {
            files.extend(sources(&entry));
        } else if entry.extension().is_some_and(|e| e == "rs") {
            files.push(entry);
        }
    }
    files.sort();
    files
}

/// The crates under `tools/` that provide a tool (a handle type).
fn tool_crates() -> Vec<PathBuf> {
    let tools = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools");
    let mut crates: Vec<PathBuf> = std::fs::read_dir(tools)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("Cargo.toml").is_file())
        .filter(|p| {
            sources(&p.join("src")).iter().any(|f| {
                std::fs::read_to_string(f)
                    .unwrap()
                    .contains("ToolHandle for")
            })
        })
        .collect();
    crates.sort();
    crates
}

fn last_segment(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

/// `(type, method)` for each `pub fn` of an inherent impl of a tool handle
/// (a type with `impl ToolHandle for ..` in the same crate) or of a block
/// marked `#[tool]`.
fn public_methods(krate: &Path) -> BTreeSet<(String, String)> {
    let files: Vec<syn::File> = sources(&krate.join("src"))
        .iter()
        .map(|f| syn::parse_file(&std::fs::read_to_string(f).unwrap()).unwrap())
        .collect();
    let impls = || {
        files.iter().flat_map(|f| &f.items).filter_map(|i| match i {
            syn::Item::Impl(i) => Some(i),
            _ => None,
        })
    };
    let handles: BTreeSet<String> = impls()
        .filter(|i| {
            i.trait_
                .as_ref()
                .is_some_and(|(_, p, _)| p.segments.last().is_some_and(|s| s.ident == "ToolHandle"))
        })
        .filter_map(|i| last_segment(&i.self_ty))
        .collect();
    let mut methods = BTreeSet::new();
    for block in impls().filter(|i| i.trait_.is_none()) {
        let Some(ty) = last_segment(&block.self_ty) else {
            continue;
        };
        let marked = block
            .attrs
            .iter()
            .any(|a| a.path().segments.last().is_some_and(|s| s.ident == "tool"));
        if !marked && !handles.contains(&ty) {
            continue;
        }
        for item in &block.items {
            if let syn::ImplItem::Fn(f) = item
                && matches!(f.vis, syn::Visibility::Public(_))
            {
                methods.insert((ty.clone(), f.sig.ident.to_string()));
            }
        }
    }
    methods
}

/// The method name of a recorded signature: `async fn get<T>(..)` → `get`.
fn name_of(signature: &str) -> String {
    let rest = &signature[signature.find("fn ").unwrap() + 3..];
    rest.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

#[test]
fn every_public_method_of_a_tool_handle_is_in_the_context() {
    // Names the app so every tool crate (and its `#[tool]` blocks) is linked.
    let _ = microcore_app::app();
    let recorded: BTreeSet<(String, String)> = blocks()
        .iter()
        .flat_map(|b| {
            b.methods
                .iter()
                .map(|m| (b.type_name.to_string(), name_of(m.signature)))
        })
        .collect();
    let mut missing = Vec::new();
    for krate in tool_crates() {
        for (ty, method) in public_methods(&krate) {
            if !recorded.contains(&(ty.clone(), method.clone())) {
                missing.push(format!("{}: {ty}::{method}", krate.display()));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "public methods missing from AI_CONTEXT.md; put `#[microcore::tool]` on their impl block:\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_tool_crate_has_an_ai_md_and_it_is_in_the_context() {
    let _ = microcore_app::app();
    let guides: Vec<&str> = blocks().iter().filter_map(|b| b.guide).collect();
    for krate in tool_crates() {
        let path = krate.join("AI.md");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: every tool crate needs an AI.md: {e}", path.display()));
        for heading in ["## When to use", "## Pitfalls", "## Example"] {
            assert!(
                text.contains(heading),
                "{} has no `{heading}`",
                path.display()
            );
        }
        assert!(
            guides.contains(&text.as_str()),
            "{} is not attached: write `#[microcore::tool(guide = \"../AI.md\")]` on the handle's impl block",
            path.display()
        );
    }
}

#[test]
fn the_example_apps_agents_md_is_the_generated_one() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("AGENTS.md");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        text == microcore_registry::agents::render(),
        "AGENTS.md is not what microcore_registry::agents::render() gives: write it again with\n  cargo run -- agents > AGENTS.md"
    );
}

/// The context of a dry run of the example app, as `cargo run -- context`
/// prints it.
async fn dry_run_context() -> String {
    let running = microcore_app::app()
        .dry_run()
        .boot()
        .await
        .expect("a dry run boots");
    let text = running
        .handle::<microcore_registry::Registry>()
        .expect("the registry tool is set up")
        .context();
    running.shutdown().await;
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn models_route_shapes_event_replies_and_edges_are_rendered_the_same_twice() {
    let text = dry_run_context().await;
    assert_eq!(text, dry_run_context().await, "same build, same bytes");
    for expected in [
        // Every domain's models, from its models.rs.
        "## Models (",
        "- `user::Model {id: i64, name: String, email: String, password_hash: String, roles: String}` (table `users`)",
        "- `async fn find_user(db: &Db, id: i64, message: &'static str) -> Result<user::Model>`",
        // Every route: auth, input and response, from OpenAPI.
        "| POST | `/users` | `users.RegisterUser` | - | body `{email: string, name: string, password: string}` | 201 `{email: string, id: integer, name: string, roles: [string]}` |",
        "| GET | `/users` | `users.ListUsers` | bearer | query `{limit?: integer, offset?: integer}` | 200 `{limit: integer, offset: integer, users: [UserSummary]}` |",
        "- `UserSummary`: `{email: string, id: integer, name: string}`",
        // Every event: payloads, publishers, subscribers, reply.
        "- published by `users.RegisterUser` as `UserCreated`",
        "- consumer groups: `notifications.QueueWelcomeEmail.on_user_created`",
        "- reply: none (publish only)",
        // The edges a plugin has through what it registers.
        "- needs: `auth` (argument `AuthUser` of GET /users/me, at `domains/users/plugins/me.rs:",
    ] {
        assert!(text.contains(expected), "`{expected}` in AI_CONTEXT.md");
    }
    let order: Vec<usize> = [
        "## Tables",
        "## Models",
        "## Plugins",
        "## Routes",
        "## Events",
    ]
    .iter()
    .map(|heading| text.find(heading).expect(heading))
    .collect();
    assert!(order.is_sorted(), "sections in a stable order: {order:?}");
    assert!(
        text.len() <= microcore_registry::context::BUDGET_BYTES,
        "AI_CONTEXT.md is {} bytes, over its budget of {}",
        text.len(),
        microcore_registry::context::BUDGET_BYTES
    );
}
