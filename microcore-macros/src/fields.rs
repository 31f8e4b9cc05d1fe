//! Reading a struct's fields as dependencies: the part both attributes share.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Fields, ItemStruct};

/// The checked struct, with `#[state]` markers removed, and the generated
/// dependency list and field initialisers.
pub(crate) struct Wiring {
    pub(crate) item: ItemStruct,
    pub(crate) deps: Vec<TokenStream>,
    pub(crate) inits: Vec<TokenStream>,
}

/// Checks the shape shared by `#[plugin]` and `#[tool]` and reads the fields.
pub(crate) fn read(attr: &str, example: &str, item: TokenStream) -> syn::Result<Wiring> {
    let mut item: ItemStruct = syn::parse2(item).map_err(|e| {
        syn::Error::new(
            e.span(),
            format!("`#[{attr}]` goes on a struct with named fields: write `{example}`"),
        )
    })?;
    if !item.generics.params.is_empty() {
        return Err(syn::Error::new(
            item.generics.span(),
            format!(
                "`#[{attr}]` structs cannot be generic: the kernel builds exactly one `{}`; pick concrete tool handle types for its fields",
                item.ident
            ),
        ));
    }
    let mut deps = Vec::new();
    let mut inits = Vec::new();
    match &mut item.fields {
        Fields::Named(named) => {
            for field in &mut named.named {
                let Some(ident) = field.ident.clone() else {
                    continue;
                };
                let before = field.attrs.len();
                field.attrs.retain(|a| !a.path().is_ident("state"));
                if field.attrs.len() != before {
                    inits.push(quote! { #ident: ::core::default::Default::default() });
                    continue;
                }
                let ty = &field.ty;
                let name = ident.to_string();
                let span = ty.span();
                deps.push(quote_spanned! {span=>
                    ::microcore::descriptor::Dependency {
                        field: #name,
                        tool: <#ty as ::microcore::ToolHandle>::NAME,
                        line: line!(),
                    }
                });
                // Spanned like the dependency, so a type that is not a
                // handle is reported once, at the field.
                inits.push(quote_spanned! {span=> #ident: w.take::<#ty>()? });
            }
        }
        Fields::Unit => {}
        Fields::Unnamed(unnamed) => {
            return Err(syn::Error::new(
                unnamed.span(),
                format!(
                    "`#[{attr}]` needs named fields, so each dependency has a name: write `{example}`"
                ),
            ));
        }
    }
    Ok(Wiring { item, deps, inits })
}
