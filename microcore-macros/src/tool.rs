//! `#[tool]`: a descriptor and a constructor for a tool implementation.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::{args, fields};

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let mut replaces = false;
    args::parse(args, "tool", "`replaces`", |meta| {
        if meta.path.is_ident("replaces") {
            replaces = true;
            return Ok(true);
        }
        Ok(false)
    })?;
    let fields::Wiring { item, deps, inits } =
        fields::read("tool", "struct SqlDb { config: Config }", item)?;

    let ident = &item.ident;
    let name = ident.to_string();
    let static_name = format_ident!("__MICROCORE_TOOL_{}", name.to_uppercase());
    Ok(quote! {
        #item

        #[::microcore::__private::linkme::distributed_slice(::microcore::TOOLS)]
        #[linkme(crate = ::microcore::__private::linkme)]
        #[doc(hidden)]
        static #static_name: ::microcore::descriptor::ToolDescriptor =
            ::microcore::descriptor::ToolDescriptor {
                name: <<#ident as ::microcore::Tool>::Handle as ::microcore::ToolHandle>::NAME,
                type_name: #name,
                location: ::microcore::descriptor::Location { file: file!(), line: line!() },
                deps: &[#(#deps),*],
                replaces: #replaces,
                critical: <#ident as ::microcore::Tool>::CRITICAL,
                dry_run: <#ident as ::microcore::Tool>::DRY_RUN,
                pre_boot: <#ident as ::microcore::Tool>::pre_boot,
                construct: |w| ::core::result::Result::Ok(::std::sync::Arc::new(#ident { #(#inits),* })),
            };
    })
}
