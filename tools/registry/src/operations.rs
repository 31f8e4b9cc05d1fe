//! The `Routes` section of `AI_CONTEXT.md`: each route with who may call
//! it, what it reads (query, body) and what it answers (status and the
//! envelope's `data`), from the OpenAPI document the http tool serves, in
//! the compact shape of [`crate::context::shape`]; then every schema the
//! routes name, once.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde_json::Value;

use crate::context::{Route, shape};

/// Appends the section. `openapi` is the document as JSON (`None` when
/// the http tool made none: the routes are listed without their shapes).
///
/// ```
/// let route = microcore_http::RouteInfo { method: "GET", path: "/notes".into(),
///     plugin: "notes.List", site: "domains/notes/plugins/list.rs:9".into(), auth: Some("bearer") };
/// let openapi = serde_json::json!({"paths": {"/notes": {"get": {"responses": {"200": {"content":
///     {"application/json": {"schema": {"properties": {"data": {"type": "array",
///     "items": {"$ref": "#/components/schemas/Note"}}}}}}}, "401": {}}}}},
///     "components": {"schemas": {"Note": {"type": "object", "required": ["id"],
///     "properties": {"id": {"type": "integer"}}}}}});
/// let mut out = String::new();
/// microcore_registry::operations::render(&mut out, &[route], Some(&openapi));
/// assert!(out.contains("| GET | `/notes` | `notes.List` | bearer | - | 200 `[Note]` | 401 |"));
/// assert!(out.contains("- `Note`: `{id: integer}`"));
/// ```
pub fn render(out: &mut String, routes: &[Route], openapi: Option<&Value>) {
    let _ = writeln!(
        out,
        "\n## Routes ({})\n\nInput: `query {{..}}` and `body T`; response: status and the type of `data` in the envelope; errors: other statuses (error envelope).\n\n| method | path | plugin | auth | input | response | errors |\n|---|---|---|---|---|---|---|",
        routes.len()
    );
    let mut named = BTreeSet::new();
    for r in routes {
        let auth = r.auth.unwrap_or("-");
        let operation = openapi
            .map(|doc| &doc["paths"][&r.path][r.method.to_lowercase()])
            .filter(|op| op.is_object());
        let (input, response, errors) = match operation {
            Some(op) => {
                collect_refs(op, &mut named);
                (input(op), response(op), errors(op))
            }
            None => ("-".into(), "-".into(), "-".into()),
        };
        let _ = writeln!(
            out,
            "| {} | `{}` | `{}` | {auth} | {input} | {response} | {errors} |",
            r.method, r.path, r.plugin
        );
    }
    let Some(schemas) = openapi.map(|doc| &doc["components"]["schemas"]) else {
        return;
    };
    // A schema names others: list those too, each once.
    let mut pending: Vec<String> = named.iter().cloned().collect();
    while let Some(name) = pending.pop() {
        let mut more = BTreeSet::new();
        collect_refs(&schemas[&name], &mut more);
        for found in more {
            if named.insert(found.clone()) {
                pending.push(found);
            }
        }
    }
    named.remove("ErrorEnvelope");
    if named.is_empty() {
        return;
    }
    out.push_str("\nSchemas the routes name (`?`: optional):\n\n");
    for name in &named {
        let _ = writeln!(
            out,
            "- `{name}`: `{}`",
            shape(&schemas[name]).replace('|', "\\|")
        );
    }
}

/// `query {page?: integer}; body RegisterRequest`, or `-`.
fn input(op: &Value) -> String {
    let mut parts = Vec::new();
    let query: Vec<String> = op["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["in"] == "query")
        .map(|p| {
            let optional = if p["required"] == true { "" } else { "?" };
            format!(
                "{}{optional}: {}",
                p["name"].as_str().unwrap_or("?"),
                shape(&p["schema"])
            )
        })
        .collect();
    if !query.is_empty() {
        parts.push(format!("query `{{{}}}`", query.join(", ")));
    }
    let body = &op["requestBody"]["content"]["application/json"]["schema"];
    if !body.is_null() {
        parts.push(format!("body `{}`", shape(body)));
    }
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join("; ").replace('|', "\\|")
    }
}

/// `201 \`UserProfile\``: the success status and the type of `data`.
fn response(op: &Value) -> String {
    let Some(responses) = op["responses"].as_object() else {
        return "-".into();
    };
    let Some((status, success)) = responses.iter().find(|(s, _)| s.starts_with('2')) else {
        return "-".into();
    };
    let envelope = &success["content"]["application/json"]["schema"];
    let data = &envelope["properties"]["data"];
    if data.is_null() {
        // No `data`: the envelope alone, or a body of its own (a stream).
        return if envelope["properties"]["success"].is_null() && !envelope.is_null() {
            format!("{status} `{}`", shape(envelope)).replace('|', "\\|")
        } else {
            status.clone()
        };
    }
    format!("{status} `{}`", shape(data)).replace('|', "\\|")
}

/// The error statuses, `401 404`, or `-`.
fn errors(op: &Value) -> String {
    let codes: Vec<&str> = op["responses"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(s, _)| s.as_str())
        .filter(|s| !s.starts_with('2'))
        .collect();
    if codes.is_empty() {
        "-".into()
    } else {
        codes.join(" ")
    }
}

/// The component names `value` refers to (`#/components/schemas/X`).
fn collect_refs(value: &Value, found: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                if key == "$ref"
                    && let Some(name) = v
                        .as_str()
                        .and_then(|r| r.strip_prefix("#/components/schemas/"))
                {
                    found.insert(name.to_string());
                } else {
                    collect_refs(v, found);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, found)),
        _ => {}
    }
}
