//! The `Models` section of `AI_CONTEXT.md`: what each domain's
//! `models.rs` shares between its plugins (entities with their table,
//! request and response types, helper functions), one line each, as the
//! domains crate's build script embedded them ([`microcore_commands::model`]).

use std::fmt::Write as _;

use microcore_commands::model::ModelItem;

/// Appends the section; `items` come sorted by domain, then source order
/// ([`microcore_commands::model::items`]).
///
/// ```
/// use microcore_commands::model::ModelItem;
///
/// let row = ModelItem { domain: "notes", order: 0, path: "note::Model", kind: "struct",
///     shape: "{id: i64}", doc: "One row.", table: Some("notes") };
/// let mut out = String::new();
/// microcore_registry::models::render(&mut out, &[&row]);
/// assert!(out.contains("### `notes`\n- `note::Model {id: i64}` (table `notes`) — One row.\n"));
/// ```
pub fn render(out: &mut String, items: &[&ModelItem]) {
    let _ = writeln!(
        out,
        "\n## Models ({}), from each domain's `models.rs`\n\nA plugin names them `crate::<domain>::models::<path>`, in its own domain only.",
        items.len()
    );
    let mut domain = "";
    for item in items {
        if item.domain != domain {
            domain = item.domain;
            let _ = writeln!(out, "\n### `{domain}`");
        }
        let table = item
            .table
            .map(|t| format!(" (table `{t}`)"))
            .unwrap_or_default();
        let doc = if item.doc.is_empty() {
            String::new()
        } else {
            format!(" — {}", item.doc)
        };
        let _ = writeln!(out, "- `{}`{table}{doc}", code(item));
    }
}

/// The item as Rust a plugin could write.
fn code(item: &ModelItem) -> String {
    let (path, shape) = (item.path, item.shape);
    match item.kind {
        "struct" => format!("{path} {shape}").trim_end().to_string(),
        "enum" if shape == "{}" => format!("enum {path} {{}}"),
        "enum" => format!("enum {path} = {shape}"),
        // A method's shape names the method alone: say whose it is.
        "fn" => match path.rsplit_once("::") {
            Some((owner, name)) => {
                shape.replacen(&format!("fn {name}"), &format!("fn {owner}::{name}"), 1)
            }
            None => shape.to_string(),
        },
        "use" if shape.rsplit("::").next() == Some(path) => format!("use {shape}"),
        "use" => format!("use {shape} as {path}"),
        "impl" => format!("impl {shape} for {path}"),
        "type" => format!("type {path} = {shape}"),
        "const" => format!("const {path}: {shape}"),
        kind => format!("{kind} {path} {shape}"),
    }
}
