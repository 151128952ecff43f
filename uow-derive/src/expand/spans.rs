//! Spans for generated code: code that can fail because of a type or field
//! the user wrote is spanned at it, so that rustc reports it there.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{Ident, Type};

/// The spans of the first and the last token of `ty`. rustc reports code
/// whose tokens run from one to the other under the whole type as written.
pub fn type_ends(ty: &Type) -> (Span, Span) {
    let mut tokens = ty.to_token_stream().into_iter();
    let first = tokens
        .next()
        .map_or_else(|| ty.span(), |token| token.span());
    let last = tokens.last().map_or(first, |token| token.span());
    (first, last)
}

/// `ident` with `span`, so that an expression naming the field is reported
/// at the field's type.
pub fn respan(ident: &Ident, span: Span) -> Ident {
    let mut ident = ident.clone();
    ident.set_span(span);
    ident
}

/// `tokens` with every span set to `span`: the crate path inside code that is
/// spanned at a field's type, so that rustc can point at the type.
pub fn respan_tokens<T: ToTokens>(tokens: T, span: Span) -> TokenStream {
    tokens
        .into_token_stream()
        .into_iter()
        .map(|mut token| {
            if let TokenTree::Group(group) = &token {
                let mut inner =
                    proc_macro2::Group::new(group.delimiter(), respan_tokens(group.stream(), span));
                inner.set_span(span);
                token = TokenTree::Group(inner);
            } else {
                token.set_span(span);
            }
            token
        })
        .collect()
}
