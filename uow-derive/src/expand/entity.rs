//! `#[derive(Entity)]`, and the identity-based `PartialEq`/`Eq`/`Hash` that
//! `eq_by_id` adds to entities and aggregates.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{DeriveInput, Ident, Path, Type};

use super::{Mode, unimplemented};
use crate::ast::Entity;
use crate::ctxt::Ctxt;
use crate::valid;

pub fn derive(input: &DeriveInput) -> syn::Result<TokenStream> {
    let aggregate_cx = Ctxt::new();
    if valid::written_as_aggregate(&aggregate_cx, input) {
        aggregate_cx.check()?;
    }
    let cx = Ctxt::new();
    let entity = Entity::from_ast(&cx, input);
    if let Some(entity) = &entity {
        valid::check_entity(&cx, entity);
    }
    cx.check()?;
    Ok(entity.map_or_else(TokenStream::new, |entity| generate(&entity, Mode::Complete)))
}

pub fn placeholder(input: &DeriveInput) -> TokenStream {
    // `#[derive(Aggregate)]` implements `Entity`: a second impl would be
    // one more error.
    if valid::written_as_aggregate(&Ctxt::new(), input) {
        return TokenStream::new();
    }
    match Entity::from_ast(&Ctxt::new(), input) {
        Some(entity) if entity.generics.params.is_empty() && entity.krate_found => {
            generate(&entity, Mode::Placeholder)
        }
        _ => TokenStream::new(),
    }
}

fn generate(entity: &Entity, mode: Mode) -> TokenStream {
    let krate = &entity.krate;
    let ident = entity.ident;
    let id = entity.id_field();
    let entity_impl = entity_impl(krate, ident, id.map(|f| (f.ident, f.ty)), mode);
    let eq = match id {
        Some(id) if entity.eq_by_id => eq_by_id(ident, id.ident, id.ty),
        _ => TokenStream::new(),
    };
    let child = match mode {
        Mode::Complete => super::children::child_entity_impl(entity),
        Mode::Placeholder => super::children::placeholder_child_entity_impl(entity),
    };
    let finders = match mode {
        Mode::Complete => super::children::finders(entity),
        Mode::Placeholder => TokenStream::new(),
    };
    let krate_use = &entity.krate_use;
    quote! {
        #krate_use
        #finders
        const _: () = {
            #entity_impl
            #eq
            #child
        };
    }
}

/// `impl Entity`, by the id field when there is one.
pub(super) fn entity_impl(
    krate: &Path,
    ident: &Ident,
    id: Option<(&Ident, &Type)>,
    mode: Mode,
) -> TokenStream {
    let (id_ty, body) = match id {
        Some((field, ty)) if mode == Mode::Complete => (quote!(#ty), quote!(&self.#field)),
        Some((_, ty)) => (quote!(#ty), unimplemented()),
        None => (quote!(u64), unimplemented()),
    };
    // Spanned at the id's type: an id type the impl cannot expose (a
    // private one) is reported there.
    let id_item = match id {
        Some((_, ty)) => quote_spanned!(ty.span()=> type Id = #id_ty;),
        None => quote!(type Id = #id_ty;),
    };
    quote! {
        #[automatically_derived]
        impl #krate::Entity for #ident {
            #id_item

            #[inline]
            fn id(&self) -> &Self::Id {
                #body
            }
        }
    }
}

/// `PartialEq`, `Eq` and `Hash` comparing and hashing the id only.
pub(super) fn eq_by_id(ident: &Ident, id: &Ident, ty: &Type) -> TokenStream {
    let eq = quote_spanned!(ty.span()=> self.#id == other.#id);
    let hash = quote_spanned!(ty.span()=> ::core::hash::Hash::hash(&self.#id, state));
    quote! {
        #[automatically_derived]
        impl ::core::cmp::PartialEq for #ident {
            #[inline]
            fn eq(&self, other: &Self) -> bool {
                #eq
            }
        }

        #[automatically_derived]
        impl ::core::cmp::Eq for #ident {}

        #[automatically_derived]
        impl ::core::hash::Hash for #ident {
            #[inline]
            fn hash<H: ::core::hash::Hasher>(&self, state: &mut H) {
                #hash
            }
        }
    }
}
