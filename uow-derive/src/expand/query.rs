//! The typed field handles of `#[derive(Aggregate)]`: a struct
//! `<Type>Fields` with one `uow_core::query::Field` per stored field, and
//! the `Queryable` impl that hands it to a repository's `query()`.
//!
//! The struct is declared inside the derive's `const _` block, so it can
//! collide with no item of the user's: queries reach it through the
//! closures of `filter`/`order_by`, and code that must name it writes
//! `<Product as uow_core::Queryable>::Fields`. A misspelled field is
//! rustc's own "no field `x` on type `&ProductFields`", listing the fields.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::doc;
use crate::ast::Aggregate;

/// The fields struct and the `Queryable` impl; nothing for a generic
/// aggregate (its handles would need its parameters).
pub fn fields(aggregate: &Aggregate) -> TokenStream {
    if !aggregate.generics.params.is_empty() {
        return TokenStream::new();
    }
    let krate = &aggregate.krate;
    let ident = aggregate.ident;
    let vis = aggregate.vis;
    let fields_ident = format_ident!("{}Fields", ident);
    let members = aggregate.columns().map(|(_, field)| field.ident);
    let types = aggregate.columns().map(|(_, field)| {
        let ty = field.ty;
        let value = if field.is_json() {
            quote_spanned!(ty.span()=> #krate::query::Json<#ty>)
        } else {
            quote!(#ty)
        };
        quote!(#krate::query::Field<#ident, #value>)
    });
    let docs = aggregate.columns().map(|(_, field)| {
        doc(&format!(
            "`{}.{}` (column `{}`).",
            ident, field.ident, field.column.value
        ))
    });
    let inits = aggregate.columns().map(|(index, field)| {
        let member = field.ident;
        let index = Literal::usize_unsuffixed(index);
        quote!(#member: #krate::__private::field(#index))
    });
    let struct_doc = doc(&format!(
        "The typed handles of [`{ident}`]'s stored fields, for queries:\n\
         `uow.repository.query().filter(|f| f.<field>.eq(..))`."
    ));
    quote! {
        #struct_doc
        #[allow(non_camel_case_types, dead_code)]
        #vis struct #fields_ident {
            #(#docs pub #members: #types,)*
        }

        #[automatically_derived]
        impl #krate::query::Queryable for #ident {
            type Fields = #fields_ident;
            const FIELDS: #fields_ident = #fields_ident { #(#inits,)* };
        }
    }
}
