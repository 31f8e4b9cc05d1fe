//! What each domain shares between its plugins: the public items of its
//! `models.rs` (entities, payload and response types, helper functions),
//! as the build script of the domains crate reads them
//! (`microcore_build::domains()`), so `AI_CONTEXT.md` can list them without
//! the source at hand. Kept here, beside the build script's lint findings
//! ([`crate::lint::BUILT_FINDINGS`]): both are what the build embeds in the
//! binary, and the domains crate always depends on this crate.

/// One public item of a domain's `models.rs`.
///
/// ```
/// use microcore_commands::model::{MODELS, ModelItem};
///
/// #[microcore::__private::linkme::distributed_slice(MODELS)]
/// #[linkme(crate = microcore::__private::linkme)]
/// static NOTE: ModelItem = ModelItem {
///     domain: "notes",
///     order: 0,
///     path: "Note",
///     kind: "struct",
///     shape: "{id: i64, body: String}",
///     doc: "One note.",
///     table: None,
/// };
/// assert!(microcore_commands::model::items().iter().any(|m| m.path == "Note"));
/// ```
#[derive(Debug)]
pub struct ModelItem {
    /// The domain folder (`users`).
    pub domain: &'static str,
    /// Its place in the domains crate's `models.rs` files, counted from the
    /// first item of the first domain: source order.
    pub order: u32,
    /// The item's path inside `models.rs` (`UserProfile`, `user::Model`);
    /// a plugin of the domain names it `crate::<domain>::models::<path>`.
    pub path: &'static str,
    /// `struct`, `enum`, `fn`, `use`, `type` or `const`.
    pub kind: &'static str,
    /// Its fields (`{id: i64, name: String}`), variants (`A | B(u8)`),
    /// signature (`fn f(a: u8) -> bool`) or target (`user::Entity`).
    pub shape: &'static str,
    /// The first sentence of its doc comment (empty when it has none).
    pub doc: &'static str,
    /// The table of a SeaORM entity (`#[sea_orm(table_name = "users")]`).
    pub table: Option<&'static str>,
}

/// Every model item the linked domains crates embed.
#[linkme::distributed_slice]
pub static MODELS: [ModelItem];

/// Every model item, by domain, then in source order, so the order does
/// not depend on the linker.
pub fn items() -> Vec<&'static ModelItem> {
    let mut items: Vec<&ModelItem> = MODELS.iter().collect();
    items.sort_by_key(|m| (m.domain, m.order, m.path));
    items
}
