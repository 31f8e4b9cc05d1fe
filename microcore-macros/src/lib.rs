//! The attributes of microcore: `#[plugin]` and `#[tool]`.
//!
//! Both read a struct's fields (each field's type is a tool handle) and emit
//! one `static` descriptor into a linker slice of the `microcore` crate. The
//! generated code is a handful of plain lines per struct: run `cargo expand`
//! on a plugin to see it. Mistakes are spanned compile errors, never panics.

use proc_macro::TokenStream;

mod api;
mod args;
mod fields;
mod plugin;
mod tool;

/// Declares a plugin: a struct whose fields are tool handles.
///
/// The struct is registered with the kernel, which builds it once every tool
/// it names is set up and then runs its `Plugin::on_boot`. Arguments:
/// `domain = "name"` overrides the domain taken from the file's folder.
/// Fields marked `#[state]` are not tools: they start as `Default::default()`.
///
/// See `microcore::Plugin` for an example.
#[proc_macro_attribute]
pub fn plugin(args: TokenStream, item: TokenStream) -> TokenStream {
    plugin::expand(args.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Declares a tool implementation: a struct whose fields are the handles of
/// the tools it needs itself, and which implements `microcore::Tool`.
///
/// The tool's name is its handle's `NAME`. Arguments: `replaces` lets this
/// implementation take the place of another tool of the same name (without
/// it, two tools with one name are a boot error).
///
/// On an inherent `impl` block of a handle (`#[tool] impl Db { .. }`), it
/// records the signature and first doc sentence of each `pub fn` for
/// `AI_CONTEXT.md` (see `microcore::api`). Arguments there: `guide =
/// "../AI.md"` attaches the tool's guide; `part_of = Handle` files a
/// helper type (a builder the handle returns) under `Handle`'s tool.
///
/// See `microcore::Tool` for an example.
#[proc_macro_attribute]
pub fn tool(args: TokenStream, item: TokenStream) -> TokenStream {
    let item = proc_macro2::TokenStream::from(item);
    if let Ok(block) = syn::parse2::<syn::ItemImpl>(item.clone()) {
        return api::expand(args.into(), block)
            .unwrap_or_else(syn::Error::into_compile_error)
            .into();
    }
    tool::expand(args.into(), item)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
