//! `#[derive(ColumnValue)]`: a newtype value object stored as the one value
//! it wraps, or a fieldless enum stored as the name of its variant.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::DeriveInput;
use syn::spanned::Spanned;

use super::{Mode, unimplemented};
use crate::ast::{ColumnValue, ColumnVariant};
use crate::ctxt::Ctxt;
use crate::valid;

pub fn derive(input: &DeriveInput) -> syn::Result<TokenStream> {
    let cx = Ctxt::new();
    let value = ColumnValue::from_ast(&cx, input);
    if let Some(value) = &value {
        valid::check_column_value(&cx, value);
    }
    cx.check()?;
    Ok(value.map_or_else(TokenStream::new, |value| generate(&value, Mode::Complete)))
}

pub fn placeholder(input: &DeriveInput) -> TokenStream {
    match ColumnValue::from_ast(&Ctxt::new(), input) {
        Some(value) if value.generics.params.is_empty() && value.krate_found => {
            generate(&value, Mode::Placeholder)
        }
        _ => TokenStream::new(),
    }
}

fn generate(value: &ColumnValue, mode: Mode) -> TokenStream {
    let krate = &value.krate;
    let ident = value.ident;
    let result = quote!(#krate::__private::Result);
    let body = match value.fields.as_slice() {
        _ if value.variants.is_some() && mode == Mode::Complete => {
            enum_body(value, value.variants.as_deref().unwrap_or_default())
        }
        [(member, ty)] if mode == Mode::Complete => {
            let inner = quote_spanned!(ty.span()=> <#ty as #krate::ColumnValue>);
            let wrap = if value.named {
                quote!(|__uow_value| #ident { #member: __uow_value })
            } else {
                quote!(#ident)
            };
            quote! {
                const KIND: #krate::backend::ColumnKind = #inner::KIND;
                const NULLABLE: bool = #inner::NULLABLE;

                #[inline]
                fn to_value(&self) -> #result<#krate::backend::Value, #krate::ValueError> {
                    #inner::to_value(&self.#member)
                }

                #[inline]
                fn from_value(value: #krate::backend::Value) -> #result<Self, #krate::ValueError> {
                    #inner::from_value(value).map(#wrap)
                }

                #[inline]
                fn same_as(&self, stored: &#krate::backend::Value) -> bool {
                    #inner::same_as(&self.#member, stored)
                }
            }
        }
        _ => {
            let unimplemented = unimplemented();
            quote! {
                const KIND: #krate::backend::ColumnKind = #krate::backend::ColumnKind::Text;

                fn to_value(&self) -> #result<#krate::backend::Value, #krate::ValueError> {
                    #unimplemented
                }

                fn from_value(_: #krate::backend::Value) -> #result<Self, #krate::ValueError> {
                    #unimplemented
                }
            }
        }
    };
    let krate_use = &value.krate_use;
    quote! {
        #krate_use
        const _: () = {
            #[automatically_derived]
            impl #krate::ColumnValue for #ident {
                #body
            }
        };
    }
}

/// The methods of an enum stored as the text of its variant.
fn enum_body(value: &ColumnValue, variants: &[ColumnVariant]) -> TokenStream {
    let krate = &value.krate;
    let result = quote!(#krate::__private::Result);
    let idents: Vec<_> = variants.iter().map(|variant| variant.ident).collect();
    let names: Vec<_> = variants.iter().map(ColumnVariant::stored_name).collect();
    let type_name = value.ident.to_string();
    quote! {
        const KIND: #krate::backend::ColumnKind = #krate::backend::ColumnKind::Text;

        fn to_value(&self) -> #result<#krate::backend::Value, #krate::ValueError> {
            let __uow_name = match self {
                #(Self::#idents => #names,)*
            };
            #result::Ok(#krate::backend::Value::Text(#krate::__private::String::from(__uow_name)))
        }

        fn same_as(&self, stored: &#krate::backend::Value) -> bool {
            let __uow_name = match self {
                #(Self::#idents => #names,)*
            };
            ::core::matches!(stored, #krate::backend::Value::Text(__uow_text) if __uow_text == __uow_name)
        }

        fn from_value(value: #krate::backend::Value) -> #result<Self, #krate::ValueError> {
            let __uow_text = #krate::__private::variant_text(#type_name, value)?;
            match __uow_text.as_str() {
                #(#names => #result::Ok(Self::#idents),)*
                _ => #result::Err(#krate::__private::unknown_variant(
                    #type_name,
                    &__uow_text,
                    &[#(#names),*],
                )),
            }
        }
    }
}
