//! `#[tool]` on an `impl` block: the block's `pub fn`s, recorded for
//! `AI_CONTEXT.md` (see `microcore::api`).

use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};
use quote::{ToTokens, format_ident, quote};
use syn::spanned::Spanned;
use syn::{ImplItem, ItemImpl, Type, Visibility};

use crate::args;

pub(crate) fn expand(args: TokenStream, item: ItemImpl) -> syn::Result<TokenStream> {
    let mut guide = None;
    let mut part_of: Option<Type> = None;
    args::parse(
        args,
        "tool",
        "`guide = \"../AI.md\"` or `part_of = Handle` on an impl block",
        |meta| {
            if meta.path.is_ident("guide") {
                guide = Some(args::string(meta)?);
                return Ok(true);
            }
            if meta.path.is_ident("part_of") {
                part_of = Some(meta.value()?.parse()?);
                return Ok(true);
            }
            Ok(false)
        },
    )?;
    if let Some((_, path, _)) = &item.trait_ {
        return Err(syn::Error::new(
            path.span(),
            "`#[tool]` records a handle's own methods: put it on `impl Handle { .. }`, not on a trait impl",
        ));
    }
    let self_ty = &item.self_ty;
    let Type::Path(path) = self_ty.as_ref() else {
        return Err(syn::Error::new(
            self_ty.span(),
            "`#[tool]` goes on `impl Handle { .. }` where `Handle` is a named type",
        ));
    };
    let type_name = path
        .path
        .segments
        .last()
        .map(|s| s.ident.to_string())
        .unwrap_or_default();
    let handle = part_of
        .as_ref()
        .map_or_else(|| self_ty.to_token_stream(), ToTokens::to_token_stream);
    let methods = item.items.iter().filter_map(|i| match i {
        ImplItem::Fn(f) if matches!(f.vis, Visibility::Public(_)) => Some(f),
        _ => None,
    });
    let methods = methods.map(|f| {
        let signature = tidy(f.sig.to_token_stream());
        let doc = first_sentence(&f.attrs);
        quote! { ::microcore::api::Method { signature: #signature, doc: #doc } }
    });
    let guide = guide.map_or_else(
        || quote! { ::core::option::Option::None },
        |g| quote! { ::core::option::Option::Some(include_str!(#g)) },
    );
    let static_name = format_ident!("__MICROCORE_API_{}", type_name.to_uppercase());
    // In an unnamed const, so two blocks of one type need no unique name.
    Ok(quote! {
        #item

        const _: () = {
            #[::microcore::__private::linkme::distributed_slice(::microcore::api::TOOL_APIS)]
            #[linkme(crate = ::microcore::__private::linkme)]
            static #static_name: ::microcore::api::ApiBlock = ::microcore::api::ApiBlock {
                tool: <#handle as ::microcore::ToolHandle>::NAME,
                type_name: #type_name,
                location: ::microcore::descriptor::Location { file: file!(), line: line!() },
                guide: #guide,
                methods: &[#(#methods),*],
            };
        };
    })
}

/// The first sentence of a doc comment, on one line, with rustdoc's link
/// brackets dropped (`[`Db`]` reads `` `Db` ``).
fn first_sentence(attrs: &[syn::Attribute]) -> String {
    let mut lines = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("doc")) {
        let syn::Meta::NameValue(nv) = &attr.meta else {
            continue;
        };
        let Some(line) = doc_text(&nv.value) else {
            continue;
        };
        let line = line.trim().to_string();
        if line.is_empty() {
            if lines.is_empty() {
                continue;
            }
            break;
        }
        lines.push(line);
    }
    let text = lines.join(" ").replace("[`", "`").replace("`]", "`");
    match text.find(". ") {
        Some(end) => text[..=end].to_string(),
        None => text,
    }
}

/// A doc line: a string, or a `concat!` of strings (what a `macro_rules!`
/// that writes methods leaves after substitution).
fn doc_text(value: &syn::Expr) -> Option<String> {
    match value {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) => Some(s.value()),
        syn::Expr::Macro(m) if m.mac.path.is_ident("concat") => {
            let parts = m
                .mac
                .parse_body_with(
                    syn::punctuated::Punctuated::<syn::LitStr, syn::Token![,]>::parse_terminated,
                )
                .ok()?;
            Some(parts.iter().map(syn::LitStr::value).collect())
        }
        _ => None,
    }
}

/// Tokens as a person writes them: `&self, key: &str) -> Result<T>`, not
/// `& self , key : & str) - > Result < T >`.
pub(crate) fn tidy(tokens: TokenStream) -> String {
    let mut out = String::new();
    write(&mut out, tokens, &mut false);
    out
}

fn write(out: &mut String, tokens: TokenStream, space: &mut bool) {
    let mut tokens = tokens.into_iter().peekable();
    while let Some(token) = tokens.next() {
        match token {
            TokenTree::Ident(_) | TokenTree::Literal(_) => {
                let word_before = out
                    .chars()
                    .last()
                    .is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | ')' | '>' | ']'));
                if *space || (word_before && !out.ends_with("->")) {
                    out.push(' ');
                }
                out.push_str(&token.to_string());
                *space = false;
            }
            TokenTree::Punct(p) => {
                // Joint punctuation is one operator: `::`, `->`, `=>`.
                let mut op = p.as_char().to_string();
                let mut spacing = p.spacing();
                while spacing == Spacing::Joint {
                    match tokens.peek() {
                        Some(TokenTree::Punct(next)) if op != "'" => {
                            op.push(next.as_char());
                            spacing = next.spacing();
                            tokens.next();
                        }
                        _ => break,
                    }
                }
                match op.as_str() {
                    "->" | "=" | "+" | "=>" => {
                        out.push(' ');
                        out.push_str(&op);
                        *space = true;
                    }
                    "," | ":" => {
                        out.push_str(&op);
                        *space = true;
                    }
                    _ => {
                        if *space {
                            out.push(' ');
                        }
                        out.push_str(&op);
                        *space = false;
                    }
                }
            }
            TokenTree::Group(g) => {
                let (open, close) = match g.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::Brace => ("{ ", " }"),
                    Delimiter::None => ("", ""),
                };
                if *space {
                    out.push(' ');
                }
                out.push_str(open);
                *space = false;
                write(out, g.stream(), space);
                *space = false;
                // rustfmt's trailing comma of a wrapped argument list.
                if out.ends_with(',') {
                    out.pop();
                }
                out.push_str(close);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::tidy;

    fn sig(text: &str) -> String {
        let f: syn::ImplItemFn = syn::parse_str(&format!("{text} {{}}")).unwrap();
        tidy(quote::ToTokens::to_token_stream(&f.sig))
    }

    #[test]
    fn prints_signatures_as_written() {
        for text in [
            "async fn get(&self, key: &str) -> Result<Option<String>>",
            "fn stream<F, R>(&self, first: Vec<String>, feed: F) -> axum::response::Response where F: Feed, R: FnMut(F::Item) -> Option<String> + Send + 'static",
            "fn closed(&self) -> impl Future<Output = ()> + Send + 'static",
            "fn bytes<'a>(&'a mut self, data: &[u8]) -> (u8, &'a str)",
            "fn new(kernel: Arc<Kernel>, http: Http) -> Self",
        ] {
            assert_eq!(sig(text), text);
        }
        assert_eq!(
            sig("fn wrapped(\n    a: u8,\n    b: impl IntoIterator<Item = (K, V)>,\n) -> Self"),
            "fn wrapped(a: u8, b: impl IntoIterator<Item = (K, V)>) -> Self"
        );
    }
}
