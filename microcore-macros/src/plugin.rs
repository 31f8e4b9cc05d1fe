//! `#[plugin]`: a descriptor and a constructor for a plugin struct.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::{args, fields};

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let mut domain = None;
    let mut critical = true;
    let known = "`domain = \"...\"` and `critical = false`";
    args::parse(args, "plugin", known, |meta| {
        if meta.path.is_ident("domain") {
            domain = Some(args::string(meta)?);
            return Ok(true);
        }
        if meta.path.is_ident("critical") {
            critical = args::boolean(meta)?;
            return Ok(true);
        }
        Ok(false)
    })?;
    let fields::Wiring { item, deps, inits } =
        fields::read("plugin", "struct ListUsers { http: Http, db: Db }", item)?;

    let ident = &item.ident;
    let name = ident.to_string();
    let static_name = format_ident!("__MICROCORE_PLUGIN_{}", name.to_uppercase());
    let domain = match domain {
        Some(d) => quote!(::core::option::Option::Some(#d)),
        None => quote!(::core::option::Option::None),
    };
    Ok(quote! {
        #item

        #[::microcore::__private::linkme::distributed_slice(::microcore::PLUGINS)]
        #[linkme(crate = ::microcore::__private::linkme)]
        #[doc(hidden)]
        static #static_name: ::microcore::descriptor::PluginDescriptor =
            ::microcore::descriptor::PluginDescriptor {
                name: #name,
                domain_override: #domain,
                critical: #critical,
                location: ::microcore::descriptor::Location { file: file!(), line: line!() },
                deps: &[#(#deps),*],
                construct: |w| ::core::result::Result::Ok(::std::sync::Arc::new(#ident { #(#inits),* })),
            };
    })
}
