//! What a name may be, checked before any file is written: every name the
//! CLI is given becomes a module, a struct, a crate or a file, and a bad
//! one would otherwise surface as a compile error in generated code.

use crate::failure::Failure;
use crate::manifest::DOMAINS_EXTERNAL;

/// Rust's keywords, strict and reserved (edition 2024), which cannot be
/// module names.
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "static", "struct", "super", "trait", "true", "try", "type", "typeof",
    "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Names the domains crate has besides the registry crates it depends on
/// ([`DOMAINS_EXTERNAL`]): a domain module of such a name would make their
/// paths (which derive macros emit) ambiguous.
const DOMAINS_OWN_NAMES: &[&str] = &["prelude", "std", "core", "alloc", "microcore"];

/// Whether the domains crate already uses `name` (a module or a crate).
fn used_by_domains(name: &str) -> bool {
    DOMAINS_OWN_NAMES.contains(&name)
        || DOMAINS_EXTERNAL
            .iter()
            .any(|krate| krate.replace('-', "_") == name)
}

/// Types every plugin file imports from the prelude: a plugin struct of
/// that name would shadow them.
const PRELUDE_TYPES: &[&str] = &[
    "ActiveValue",
    "Arc",
    "Auth",
    "AuthUser",
    "Condition",
    "Config",
    "Created",
    "Db",
    "DbErr",
    "Deserialize",
    "Error",
    "ErrorKind",
    "Event",
    "EventBus",
    "FieldError",
    "Health",
    "Http",
    "IntoParams",
    "JobRun",
    "Json",
    "Log",
    "MaybeAuthUser",
    "NotSet",
    "Order",
    "Path",
    "Plugin",
    "Query",
    "Reply",
    "Result",
    "Scheduler",
    "Serialize",
    "Set",
    "SqlErr",
    "State",
    "StatusCode",
    "ToSchema",
    "Tool",
    "ToolContext",
    "ToolHandle",
    "Validate",
];

/// Tools a new project links already: a second tool under one of these
/// names would fail the wiring check.
const LINKED_TOOLS: &[&str] = &[
    "config",
    "log",
    "http",
    "db",
    "event_bus",
    "auth",
    "state",
    "scheduler",
    "registry",
    "scheduler",
];

/// `what` names a `kind` (domain, plugin, tool, migration); `Ok` if it is
/// snake_case and a valid Rust identifier.
pub(crate) fn snake_case(kind: &str, name: &str) -> Result<(), Failure> {
    let words_ok = !name.is_empty()
        && name.split('_').all(|word| {
            !word.is_empty()
                && word
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    let first_ok = name.bytes().next().is_some_and(|b| b.is_ascii_lowercase());
    if !words_ok || !first_ok {
        return Err(Failure::usage(format!(
            "'{name}' is not a valid {kind} name: use snake_case, a lowercase letter then lowercase letters, digits and single underscores between words (e.g. '{}')",
            suggest(name)
        )));
    }
    if KEYWORDS.contains(&name) {
        return Err(Failure::usage(format!(
            "'{name}' is not a valid {kind} name: it is a Rust keyword (try '{name}s' or 'my_{name}')"
        )));
    }
    Ok(())
}

/// A domain name: snake_case, and not a name the domains crate uses.
pub(crate) fn domain(name: &str) -> Result<(), Failure> {
    snake_case("domain", name)?;
    if used_by_domains(name) {
        return Err(Failure::usage(format!(
            "'{name}' cannot be a domain name: the domains crate already uses that name (a module or a crate it depends on)"
        )));
    }
    Ok(())
}

/// A plugin (file) name: snake_case, and its struct must not shadow a
/// prelude type.
pub(crate) fn plugin(name: &str) -> Result<(), Failure> {
    snake_case("plugin", name)?;
    let ty = upper_camel(name);
    if PRELUDE_TYPES.contains(&ty.as_str()) {
        return Err(Failure::usage(format!(
            "'{name}' cannot be a plugin name: its struct `{ty}` would hide the prelude's `{ty}` (try '{name}_feature' or a verb, e.g. 'get_{name}')"
        )));
    }
    Ok(())
}

/// A tool name: snake_case, and not one the project links already.
pub(crate) fn tool(name: &str) -> Result<(), Failure> {
    snake_case("tool", name)?;
    if name == "domains" {
        return Err(Failure::usage(
            "'domains' cannot be a tool name: the project's domains package has it",
        ));
    }
    if LINKED_TOOLS.contains(&name) {
        return Err(Failure::usage(format!(
            "'{name}' cannot be a tool name: microcore's own '{name}' tool has it (pick another name, e.g. 'app_{name}')"
        )));
    }
    Ok(())
}

/// The name of a new project's root package: lowercase letters, digits,
/// `-` and `_`, starting with a letter, and not a crate it depends on.
pub(crate) fn package(name: &str) -> Result<(), Failure> {
    let ok = name.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if !ok {
        return Err(Failure::usage(format!(
            "'{name}' is not a valid project name (it names the app's package): use a lowercase letter then lowercase letters, digits, '-' or '_' (e.g. '{}')",
            suggest(name).replace('_', "-")
        )));
    }
    let lib = name.replace('-', "_");
    if KEYWORDS.contains(&lib.as_str())
        || used_by_domains(&lib)
        || lib == "domains"
        || lib == "test"
        || lib.starts_with("microcore")
    {
        return Err(Failure::usage(format!(
            "'{name}' cannot be a project name: a crate of the project or a Rust keyword has it (try 'my-{name}')"
        )));
    }
    Ok(())
}

/// `create_user` → `CreateUser`; `note.created` → `NoteCreated`.
pub(crate) fn upper_camel(name: &str) -> String {
    name.split(['_', '.', '-'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

/// A best guess at what the user meant, for the error message.
fn suggest(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    let out = out
        .trim_matches('_')
        .trim_start_matches(|c: char| c.is_ascii_digit());
    if out.is_empty() {
        "my_feature".to_string()
    } else {
        out.to_string()
    }
}

/// An event topic: lowercase words of letters, digits and `_`, separated
/// by dots (`user.created`).
pub(crate) fn topic(topic: &str) -> Result<(), Failure> {
    let ok = topic.split('.').all(|w| {
        !w.is_empty()
            && w.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    });
    if !ok {
        return Err(Failure::usage(format!(
            "'{topic}' is not a valid topic: use lowercase words of letters, digits and '_', separated by dots (e.g. 'user.created')"
        )));
    }
    Ok(())
}

/// A parsed `--route "GET /notes/{id}"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Route {
    /// `get`, `post`, `put`, `patch` or `delete`: the `Http` method to call.
    pub(crate) method: &'static str,
    /// The path as axum reads it.
    pub(crate) path: String,
    /// Its `{parameters}`, in order.
    pub(crate) params: Vec<String>,
}

impl Route {
    /// `GET`, `POST`, ...
    pub(crate) fn method_upper(&self) -> String {
        self.method.to_ascii_uppercase()
    }

    /// Whether the request carries a JSON body.
    pub(crate) fn has_body(&self) -> bool {
        matches!(self.method, "post" | "put" | "patch")
    }
}

/// Parses `"<METHOD> <path>"`.
pub(crate) fn route(spec: &str) -> Result<Route, Failure> {
    let usage = |why: &str| {
        Failure::usage(format!(
            "--route '{spec}' is invalid: {why}\n  = help: write a method and a path, e.g. --route \"GET /notes/{{note_id}}\""
        ))
    };
    let mut parts = spec.split_whitespace();
    let (Some(method), Some(path), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(usage("expected two words, a method and a path"));
    };
    let method = match method.to_ascii_uppercase().as_str() {
        "GET" => "get",
        "POST" => "post",
        "PUT" => "put",
        "PATCH" => "patch",
        "DELETE" => "delete",
        _ => {
            return Err(usage(&format!(
                "'{method}' is not one of GET, POST, PUT, PATCH, DELETE"
            )));
        }
    };
    if !path.starts_with('/') {
        return Err(usage("the path must start with '/'"));
    }
    let mut params = Vec::new();
    for segment in path.split('/').skip(1) {
        if let Some(inner) = segment.strip_prefix('{') {
            let Some(name) = inner.strip_suffix('}') else {
                return Err(usage(&format!("segment '{segment}' has no closing '}}'")));
            };
            if snake_case("path parameter", name).is_err() || KEYWORDS.contains(&name) {
                return Err(usage(&format!(
                    "path parameter '{name}' must be a snake_case identifier"
                )));
            }
            if params.iter().any(|p| p == name) {
                return Err(usage(&format!("path parameter '{name}' appears twice")));
            }
            params.push(name.to_string());
        } else if segment.starts_with(':') || segment.starts_with('*') {
            return Err(usage(&format!(
                "'{segment}': write path parameters as {{name}}"
            )));
        } else if !segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.~".contains(&b))
        {
            return Err(usage(&format!(
                "segment '{segment}' may hold only letters, digits, '-', '_', '.' and '~'"
            )));
        }
    }
    Ok(Route {
        method,
        path: path.to_string(),
        params,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(r: Result<(), Failure>) -> String {
        r.unwrap_err().to_string()
    }

    #[test]
    fn snake_case_names_pass_and_others_say_why() {
        for ok in ["notes", "create_note", "v2", "a1_b2"] {
            snake_case("plugin", ok).unwrap();
        }
        assert_eq!(
            message(snake_case("plugin", "CreateNote")),
            "'CreateNote' is not a valid plugin name: use snake_case, a lowercase letter then lowercase letters, digits and single underscores between words (e.g. 'create_note')"
        );
        for bad in ["", "_x", "x_", "a__b", "1st", "my-plugin", "é"] {
            assert!(snake_case("plugin", bad).is_err(), "{bad}");
        }
        assert!(message(snake_case("domain", "type")).contains("Rust keyword"));
    }

    #[test]
    fn names_that_collide_with_the_project_are_refused() {
        assert!(message(domain("prelude")).contains("already uses"));
        assert!(message(plugin("http")).contains("would hide the prelude's `Http`"));
        assert!(message(tool("db")).contains("microcore's own 'db' tool"));
        assert!(message(package("domains")).contains("cannot be a project name"));
        package("my-shop").unwrap();
        assert!(package("My Shop").is_err());
    }

    #[test]
    fn camel_case_of_files_and_topics() {
        assert_eq!(upper_camel("create_note"), "CreateNote");
        assert_eq!(upper_camel("note.created"), "NoteCreated");
        assert_eq!(upper_camel("v2_api"), "V2Api");
    }

    #[test]
    fn routes_are_parsed_with_their_parameters() {
        let r = route("GET /notes/{note_id}/tags/{tag}").unwrap();
        assert_eq!(
            (r.method, r.path.as_str(), r.params),
            (
                "get",
                "/notes/{note_id}/tags/{tag}",
                vec!["note_id".to_string(), "tag".to_string()]
            )
        );
        assert!(route("post /notes").unwrap().has_body());
        for bad in [
            "GET",
            "FETCH /x",
            "GET x",
            "GET /a/:id",
            "GET /a/{Id}",
            "GET /a b",
            "GET /{a}/{a}",
        ] {
            assert!(route(bad).is_err(), "{bad}");
        }
        assert!(
            route("GET /a/:id")
                .unwrap_err()
                .to_string()
                .contains("write path parameters as {name}")
        );
    }

    #[test]
    fn topics() {
        topic("user.created").unwrap();
        topic("orders").unwrap();
        assert!(topic("User.Created").is_err());
        assert!(topic("user..created").is_err());
    }
}
