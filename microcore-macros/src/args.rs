//! Parsing of the attributes' arguments.

use syn::parse::Parser;
use syn::{LitStr, meta::ParseNestedMeta};

/// Parses `key = "value", flag` arguments, handing each to `on_arg`; the
/// closure returns `Ok(false)` for a key it does not know.
pub(crate) fn parse(
    args: proc_macro2::TokenStream,
    attr: &str,
    known: &str,
    mut on_arg: impl FnMut(&ParseNestedMeta) -> syn::Result<bool>,
) -> syn::Result<()> {
    let parser = syn::meta::parser(|meta| {
        if on_arg(&meta)? {
            Ok(())
        } else {
            let name = meta
                .path
                .get_ident()
                .map_or_else(|| "this".to_string(), ToString::to_string);
            Err(meta.error(format!(
                "`#[{attr}]` has no argument `{name}`: it takes {known}"
            )))
        }
    });
    parser.parse2(args)
}

/// The boolean of `key = true|false`.
pub(crate) fn boolean(meta: &ParseNestedMeta) -> syn::Result<bool> {
    let name = meta
        .path
        .get_ident()
        .map_or_else(String::new, ToString::to_string);
    let value: syn::LitBool = meta.value()?.parse().map_err(|e| {
        syn::Error::new(
            e.span(),
            format!("`{name}` takes `true` or `false`: write `{name} = false`"),
        )
    })?;
    Ok(value.value)
}

/// The string of `key = "value"`.
pub(crate) fn string(meta: &ParseNestedMeta) -> syn::Result<LitStr> {
    let name = meta
        .path
        .get_ident()
        .map_or_else(String::new, ToString::to_string);
    meta.value()?.parse().map_err(|e| {
        syn::Error::new(
            e.span(),
            format!("`{name}` takes a string: write `{name} = \"users\"`"),
        )
    })
}
