//! Domain isolation: a domain's code names nothing of another domain.
//!
//! The domains crate compiles `<domain>/plugins/<file>.rs` as the module
//! `crate::<domain>::plugins::<file>` and `<domain>/models.rs` as
//! `crate::<domain>::models`, so a path that starts with `crate::`,
//! `self::` or `super::` resolves to a module path; when that path starts
//! with another domain's folder it crosses the boundary. The source is
//! parsed with `syn`, so comments and strings never count; macro bodies
//! (`json!`, `format!`, ...) are read as tokens.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::{self, Visit};

use crate::{Found, name_of, sorted};

/// One path in a file that reaches into another domain.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct CrossUse {
    /// The domain it reaches into.
    pub domain: String,
    /// The path as written, e.g. `crate::users::models::User`.
    pub path: String,
}

/// The paths in `source` that reach into a domain of `domains` other than
/// the one the file belongs to; `module` is the file's module path inside
/// the crate (its first element is its domain). A file that does not parse
/// has none: the compiler reports it.
///
/// ```
/// use microcore_build::isolation::cross_domain_uses;
/// let found = cross_domain_uses(
///     "use crate::users::models::User;",
///     &["notifications", "plugins", "welcome"],
///     &["notifications".into(), "users".into()].into(),
/// );
/// assert_eq!(found[0].domain, "users");
/// ```
pub fn cross_domain_uses(
    source: &str,
    module: &[&str],
    domains: &BTreeSet<String>,
) -> Vec<CrossUse> {
    let Ok(file) = syn::parse_file(source) else {
        return Vec::new();
    };
    let mut scan = Scan {
        module: module.iter().map(|m| m.to_string()).collect(),
        domains,
        found: BTreeSet::new(),
    };
    scan.visit_file(&file);
    scan.found.into_iter().collect()
}

/// One finding per file and domain it reaches into, over every
/// `plugins/*.rs` and `models.rs` of `domains` (name, folder).
pub(crate) fn check_domains(shown_root: &str, domains: &[(String, PathBuf)]) -> Vec<Found> {
    let names: BTreeSet<String> = domains.iter().map(|(name, _)| name.clone()).collect();
    let mut found = Vec::new();
    for (domain, dir) in domains {
        let mut files: Vec<(PathBuf, Vec<String>)> = Vec::new();
        let models = dir.join("models.rs");
        if models.is_file() {
            files.push((models, vec![domain.clone(), "models".into()]));
        }
        let plugins = sorted(&dir.join("plugins"), |p| {
            p.is_file() && p.extension().is_some_and(|e| e == "rs")
        });
        for file in plugins {
            let stem = name_of(&file).trim_end_matches(".rs").to_string();
            files.push((file, vec![domain.clone(), "plugins".into(), stem]));
        }
        for (file, module) in files {
            let Ok(source) = std::fs::read_to_string(&file) else {
                continue;
            };
            let module: Vec<&str> = module.iter().map(String::as_str).collect();
            let relative = file.strip_prefix(dir).unwrap_or(&file);
            let shown = format!("{shown_root}/{domain}/{}", relative.display());
            found.extend(findings(
                &shown,
                domain,
                cross_domain_uses(&source, &module, &names),
            ));
        }
    }
    found
}

fn findings(file: &str, own: &str, uses: Vec<CrossUse>) -> Vec<Found> {
    let mut by_domain: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for u in uses {
        by_domain.entry(u.domain).or_default().push(u.path);
    }
    by_domain
        .into_iter()
        .map(|(other, paths)| Found {
            check: "DomainIsolation",
            severity: "Warning",
            code: "cross_domain_use",
            message: format!(
                "{file} (domain '{own}') uses domain '{other}': {}",
                paths.join(", ")
            ),
            files: vec![file.to_string()],
            help: format!(
                "domains never import each other: have '{other}' publish an event that '{own}' subscribes to with a payload type of its own, or move what both need into a tool"
            ),
        })
        .collect()
}

struct Scan<'d> {
    /// The module being read, from the crate root.
    module: Vec<String>,
    domains: &'d BTreeSet<String>,
    found: BTreeSet<CrossUse>,
}

impl Scan<'_> {
    /// Records `segments` if, resolved from the current module, they name
    /// another domain.
    fn check(&mut self, segments: &[String]) {
        let Some(first) = segments.first() else {
            return;
        };
        let mut at = self.module.clone();
        let rest = match first.as_str() {
            "crate" => {
                at.clear();
                &segments[1..]
            }
            "self" => &segments[1..],
            "super" => {
                let supers = segments.iter().take_while(|s| *s == "super").count();
                if supers > at.len() {
                    return;
                }
                at.truncate(at.len() - supers);
                &segments[supers..]
            }
            // A name in scope (a local item, an import, another crate):
            // the `use` that brought it in is checked instead.
            _ => return,
        };
        let Some(domain) = at.first().or(rest.first()) else {
            return;
        };
        if self.domains.contains(domain) && self.module.first() != Some(domain) {
            self.found.insert(CrossUse {
                domain: domain.clone(),
                path: segments.join("::"),
            });
        }
    }

    /// Every path of a `use` tree, groups expanded.
    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Group(g) => g.items.iter().for_each(|t| self.use_tree(prefix, t)),
            syn::UseTree::Name(n) => self.check_with(prefix, n.ident.to_string()),
            syn::UseTree::Rename(r) => self.check_with(prefix, r.ident.to_string()),
            syn::UseTree::Glob(_) => self.check_with(prefix, "*".into()),
        }
    }

    fn check_with(&mut self, prefix: &[String], last: String) {
        let mut path = prefix.to_vec();
        path.push(last);
        self.check(&path);
    }

    /// Paths inside a macro's tokens: `a::b::c` runs of identifiers.
    fn tokens(&mut self, tokens: TokenStream) {
        let mut run: Vec<String> = Vec::new();
        let mut colons = 0;
        for tree in tokens {
            match tree {
                TokenTree::Ident(ident) => {
                    if colons != 2 {
                        self.check(&std::mem::take(&mut run));
                    }
                    run.push(ident.to_string());
                    colons = 0;
                }
                TokenTree::Punct(p) if p.as_char() == ':' && colons < 2 && !run.is_empty() => {
                    colons += 1;
                }
                TokenTree::Group(group) => {
                    self.check(&std::mem::take(&mut run));
                    colons = 0;
                    self.tokens(group.stream());
                }
                TokenTree::Punct(_) | TokenTree::Literal(_) => {
                    self.check(&std::mem::take(&mut run));
                    colons = 0;
                }
            }
        }
        self.check(&run);
    }
}

impl<'ast> Visit<'ast> for Scan<'_> {
    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        self.module.push(item.ident.to_string());
        visit::visit_item_mod(self, item);
        self.module.pop();
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        self.use_tree(&mut Vec::new(), &item.tree);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        if path.leading_colon.is_none() {
            let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
            self.check(&segments);
        }
        visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.tokens(mac.tokens.clone());
        visit::visit_macro(self, mac);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn domains() -> BTreeSet<String> {
        ["notifications", "users", "ping"]
            .iter()
            .map(|d| d.to_string())
            .collect()
    }

    /// The domains `source` reaches into, read as `notifications/plugins/welcome.rs`.
    fn reached(source: &str) -> Vec<String> {
        cross_domain_uses(source, &["notifications", "plugins", "welcome"], &domains())
            .into_iter()
            .map(|u| format!("{} {}", u.domain, u.path))
            .collect()
    }

    #[test]
    fn paths_into_another_domain_are_found_however_written() {
        assert_eq!(
            reached("use crate::users::models::User;"),
            ["users crate::users::models::User"]
        );
        assert_eq!(
            reached("use crate::{prelude::*, users::models};"),
            ["users crate::users::models"]
        );
        assert_eq!(
            reached("use super::super::super::users;"),
            ["users super::super::super::users"]
        );
        assert_eq!(
            reached("fn f() -> crate::users::models::User { todo!() }"),
            ["users crate::users::models::User"]
        );
        assert_eq!(
            reached("fn f() { let _ = crate::ping::plugins::ping::Ping::NAME; }"),
            ["ping crate::ping::plugins::ping::Ping::NAME"]
        );
        assert_eq!(
            reached("fn f() { let _ = json!({\"a\": crate::users::models::count()}); }"),
            ["users crate::users::models::count"]
        );
        assert_eq!(
            reached("mod inner { use super::super::super::super::users::models; }"),
            ["users super::super::super::super::users::models"]
        );
    }

    #[test]
    fn own_domain_shared_code_comments_and_strings_are_not_findings() {
        let source = r#"
            //! Reads crate::users::models in a comment only.
            use crate::prelude::*;
            use crate::notifications::models::Outbox;
            use super::other_plugin::Helper;
            use super::super::models;
            /* use crate::users::models::User; */
            /// Docs mention `crate::users::models::User`.
            fn f() -> &'static str { "crate::users::models::User" }
            fn g() { let users = 1; let _ = users; let _ = format!("{}", "super::super::super::users"); }
        "#;
        assert_eq!(reached(source), Vec::<String>::new());
    }

    #[test]
    fn models_resolve_super_from_their_own_depth() {
        let from_models =
            |source| cross_domain_uses(source, &["notifications", "models"], &domains()).len();
        assert_eq!(from_models("use super::super::users::models;"), 1);
        assert_eq!(from_models("use super::plugins::welcome;"), 0);
    }

    #[test]
    fn findings_name_the_file_and_both_domains() {
        let uses = reached("use crate::users::models::User;\nuse crate::users::models::Role;");
        assert_eq!(uses.len(), 2);
        let found = findings(
            "domains/notifications/plugins/welcome.rs",
            "notifications",
            cross_domain_uses(
                "use crate::users::models::User;\nuse crate::users::models::Role;",
                &["notifications", "plugins", "welcome"],
                &domains(),
            ),
        );
        assert_eq!(found.len(), 1, "one finding per file and domain");
        assert_eq!(found[0].files, ["domains/notifications/plugins/welcome.rs"]);
        assert!(
            found[0].message.starts_with(
                "domains/notifications/plugins/welcome.rs (domain 'notifications') uses domain 'users': "
            ),
            "{}",
            found[0].message
        );
    }
}
