//! The attributes of microcore: `#[plugin]` and `#[tool]`.
//!
//! Both read a struct's fields (each field's type is a tool handle) and emit
//! one `static` descriptor into a linker slice of the `microcore` crate. The
//! generated code is a handful of plain lines per struct: run `cargo expand`
//! on a plugin to see it. Mistakes are spanned compile errors, never panics.

use proc_macro::TokenStream;

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
/// See `microcore::Tool` for an example.
#[proc_macro_attribute]
pub fn tool(args: TokenStream, item: TokenStream) -> TokenStream {
    tool::expand(args.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
