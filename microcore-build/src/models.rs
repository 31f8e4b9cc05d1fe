//! Embeds what each domain's `models.rs` offers its plugins (public
//! structs with their fields, enums with their variants, functions with
//! their signatures, re-exports, trait impls): one
//! `microcore_commands::model::MODELS` entry per item, so `AI_CONTEXT.md` lists a
//! domain's shared types from the code, never a hand-kept copy.

use std::fmt::Write as _;
use std::path::Path;

use quote::ToTokens;

use crate::{name_of, sorted};

/// One public item, before it becomes Rust code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// Its path inside `models.rs` (`user::Model`).
    pub path: String,
    /// `struct`, `enum`, `fn`, `use`, `type`, `const` or `impl`.
    pub kind: &'static str,
    /// Fields, variants, signature or target.
    pub shape: String,
    /// The first sentence of its doc.
    pub doc: String,
    /// The table of a SeaORM entity.
    pub table: Option<String>,
}

/// The `MODELS` entries of every `<domain>/models.rs` under `root`; a file
/// that does not parse is left to the compiler, which names the mistake.
pub(crate) fn rust(root: &Path) -> String {
    let mut out = String::new();
    let mut order = 0;
    for domain in sorted(root, |p| p.join("models.rs").is_file()) {
        let name = name_of(&domain);
        let Ok(source) = std::fs::read_to_string(domain.join("models.rs")) else {
            continue;
        };
        for item in items(&source) {
            let _ = writeln!(
                out,
                "#[::microcore::__private::linkme::distributed_slice(::microcore_commands::model::MODELS)]\n\
                 #[linkme(crate = ::microcore::__private::linkme)]\n\
                 static MODEL_ITEM_{order}: ::microcore_commands::model::ModelItem = ::microcore_commands::model::ModelItem {{ \
                 domain: {name:?}, order: {order}, path: {:?}, kind: {:?}, shape: {:?}, doc: {:?}, table: {:?} }};",
                item.path, item.kind, item.shape, item.doc, item.table
            );
            order += 1;
        }
    }
    if out.is_empty() {
        return out;
    }
    format!("\n// Models: the public items of each domain's models.rs.\n{out}")
}

/// The public items of a `models.rs`, in source order (empty when it does
/// not parse).
///
/// ```
/// let items = microcore_build::models::items(
///     "/// A note. Kept short.\npub struct Note { pub id: i64, pub tags: Vec<String>, secret: u8 }\n\
///      pub fn find(db: &impl Db, id: i64) -> Result<Option<Note>> { todo!() }",
/// );
/// assert_eq!(items[0].shape, "{id: i64, tags: Vec<String>}");
/// assert_eq!(items[0].doc, "A note.");
/// assert_eq!(items[1].shape, "fn find(db: &impl Db, id: i64) -> Result<Option<Note>>");
/// ```
pub fn items(source: &str) -> Vec<Item> {
    let Ok(file) = syn::parse_file(source) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    walk(&file.items, "", &mut found);
    found
}

fn walk(items: &[syn::Item], prefix: &str, found: &mut Vec<Item>) {
    for item in items {
        let public = |vis: &syn::Visibility| matches!(vis, syn::Visibility::Public(_));
        let mut push = |name: String, kind, shape, attrs: &[syn::Attribute]| {
            found.push(Item {
                path: format!("{prefix}{name}"),
                kind,
                shape,
                doc: doc(attrs),
                table: table(attrs),
            });
        };
        match item {
            syn::Item::Struct(s) if public(&s.vis) => {
                push(
                    s.ident.to_string(),
                    "struct",
                    fields(&s.fields, false),
                    &s.attrs,
                );
            }
            syn::Item::Enum(e) if public(&e.vis) => {
                let variants: Vec<String> = e
                    .variants
                    .iter()
                    .map(|v| format!("{}{}", v.ident, fields(&v.fields, true)))
                    .collect();
                let shape = if variants.is_empty() {
                    "{}".to_string()
                } else {
                    variants.join(" | ")
                };
                push(e.ident.to_string(), "enum", shape, &e.attrs);
            }
            syn::Item::Fn(f) if public(&f.vis) => {
                push(f.sig.ident.to_string(), "fn", tidy(&f.sig), &f.attrs);
            }
            syn::Item::Type(t) if public(&t.vis) => {
                push(t.ident.to_string(), "type", tidy(&t.ty), &t.attrs);
            }
            syn::Item::Const(c) if public(&c.vis) => {
                push(c.ident.to_string(), "const", tidy(&c.ty), &c.attrs);
            }
            syn::Item::Use(u) if public(&u.vis) => {
                let (name, target) = use_name(&u.tree);
                push(name, "use", target, &u.attrs);
            }
            syn::Item::Impl(i) => {
                let ty = tidy(&i.self_ty);
                match &i.trait_ {
                    Some((_, path, _)) => {
                        push(ty.clone(), "impl", tidy(path), &i.attrs);
                    }
                    None => {
                        for method in &i.items {
                            if let syn::ImplItem::Fn(f) = method
                                && public(&f.vis)
                            {
                                let name = format!("{ty}::{}", f.sig.ident);
                                push(name, "fn", tidy(&f.sig), &f.attrs);
                            }
                        }
                    }
                }
            }
            syn::Item::Mod(m) if public(&m.vis) => {
                if let Some((_, inner)) = &m.content {
                    walk(inner, &format!("{prefix}{}::", m.ident), found);
                }
            }
            _ => {}
        }
    }
}

/// `{a: T, b: U}`, `(T, U)` or nothing: the public fields of a struct,
/// or `all` of them (an enum variant's, public with their enum).
fn fields(fields: &syn::Fields, all: bool) -> String {
    let shown = |f: &&syn::Field| all || matches!(f.vis, syn::Visibility::Public(_));
    match fields {
        syn::Fields::Named(named) => {
            let list: Vec<String> = named
                .named
                .iter()
                .filter(shown)
                .map(|f| {
                    let name = f
                        .ident
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default();
                    format!("{name}: {}", tidy(&f.ty))
                })
                .collect();
            format!("{{{}}}", list.join(", "))
        }
        syn::Fields::Unnamed(unnamed) => {
            let list: Vec<String> = unnamed
                .unnamed
                .iter()
                .filter(shown)
                .map(|f| tidy(&f.ty))
                .collect();
            format!("({})", list.join(", "))
        }
        syn::Fields::Unit => String::new(),
    }
}

/// `user::Entity as Users` → (`Users`, `user::Entity`).
fn use_name(tree: &syn::UseTree) -> (String, String) {
    let mut path = Vec::new();
    let mut tree = tree;
    loop {
        match tree {
            syn::UseTree::Path(p) => {
                path.push(p.ident.to_string());
                tree = &p.tree;
            }
            syn::UseTree::Name(n) => {
                path.push(n.ident.to_string());
                return (n.ident.to_string(), path.join("::"));
            }
            syn::UseTree::Rename(r) => {
                path.push(r.ident.to_string());
                return (r.rename.to_string(), path.join("::"));
            }
            other => {
                let prefix = path.join("::");
                return (format!("{prefix}::{}", tidy(other)), prefix);
            }
        }
    }
}

/// The first sentence of the doc comment.
fn doc(attrs: &[syn::Attribute]) -> String {
    let mut lines = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("doc")) {
        if let syn::Meta::NameValue(nv) = &attr.meta
            && let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) = &nv.value
        {
            let line = s.value().trim().to_string();
            if line.is_empty() {
                break;
            }
            lines.push(line);
        }
    }
    let text = lines.join(" ");
    match text.find(". ") {
        Some(end) => text[..=end].to_string(),
        None => text,
    }
}

/// `#[sea_orm(table_name = "users")]` → `users`.
fn table(attrs: &[syn::Attribute]) -> Option<String> {
    let mut found = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("sea_orm")) {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("table_name") {
                let name: syn::LitStr = meta.value()?.parse()?;
                found = Some(name.value());
            } else if meta.input.peek(syn::Token![=]) {
                let _: syn::Expr = meta.value()?.parse()?;
            }
            Ok(())
        });
    }
    found
}

/// Code as a person writes it: `Vec<String>`, `&'static str`,
/// `fn f(a: u8) -> bool`, not the token printer's `Vec < String >`.
fn tidy(tokens: &impl ToTokens) -> String {
    let text = tokens.to_token_stream().to_string();
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' {
            let before = out.chars().last().unwrap_or(' ');
            let after = chars.get(i + 1).copied().unwrap_or(' ');
            let word = |c: char| c.is_alphanumeric() || c == '_';
            let drop = matches!(after, ',' | ';' | ')' | ']' | '>' | '?' | ':')
                || (before == ':' && out.ends_with("::"))
                || matches!(before, '<' | '(' | '[' | '&' | '\'' | '#' | '!')
                || ((after == '<' || after == '(') && word(before))
                || (after == '(' && before == '>' && !out.ends_with("->"));
            if drop && !(after == '>' && before == '-') {
                continue;
            }
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities_modules_reexports_and_impls_are_listed() {
        let found = items(
            r#"
            /// The table.
            pub mod user {
                /// One row.
                #[derive(DeriveEntityModel)]
                #[sea_orm(table_name = "users", schema_name = "public")]
                pub struct Model { #[sea_orm(primary_key)] pub id: i64, pub roles: String }
            }
            pub use user::Entity as Users;
            pub enum Kind { A, B(u8), C { x: &'static str } }
            pub enum Relation {}
            impl From<user::Model> for Summary { fn from(u: user::Model) -> Self { todo!() } }
            impl Summary { pub fn new() -> Self { todo!() } fn private() {} }
            fn private() {}
            "#,
        );
        let shown: Vec<(&str, &str, &str)> = found
            .iter()
            .map(|i| (i.path.as_str(), i.kind, i.shape.as_str()))
            .collect();
        assert_eq!(
            shown,
            [
                ("user::Model", "struct", "{id: i64, roles: String}"),
                ("Users", "use", "user::Entity"),
                ("Kind", "enum", "A | B(u8) | C{x: &'static str}"),
                ("Relation", "enum", "{}"),
                ("Summary", "impl", "From<user::Model>"),
                ("Summary::new", "fn", "fn new() -> Self"),
            ]
        );
        assert_eq!(found[0].table.as_deref(), Some("users"));
        assert_eq!(found[0].doc, "One row.");
    }

    #[test]
    fn tidies_references_generics_and_arrows() {
        let sig: syn::Signature =
            syn::parse_str("async fn f<'a, T: Into<u8>>(db: &'a impl C, x: Option<[u8; 4]>) -> Result<(u8, u8), E>")
                .unwrap();
        assert_eq!(
            tidy(&sig),
            "async fn f<'a, T: Into<u8>>(db: &'a impl C, x: Option<[u8; 4]>) -> Result<(u8, u8), E>"
        );
    }
}
