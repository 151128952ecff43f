//! Child entities: the `children` fields of an aggregate or an entity
//! (their `ChildField` metadata and the `write_children` / `read_children`
//! glue), and the `ChildEntity` impl that `#[derive(Entity)]` adds.
//!
//! The glue is one call per field into `uow_core::backend::ChildWriter` /
//! `ChildReader`; diffing, ordering and keys are library code.

use proc_macro2::{Literal, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, Path, Type};

use super::spans::respan_tokens;
use crate::ast::{self, Entity, Role};

/// One `children` field: its member, its type and the child type in it.
pub struct ChildrenField<'a> {
    pub ident: &'a Ident,
    pub ty: &'a Type,
    pub name: String,
}

impl ChildrenField<'_> {
    /// The child type (`Batch` of `Vec<Batch>` / `Option<Batch>`), and
    /// whether the field is a `Vec`.
    fn element(&self) -> (&Type, bool) {
        match (ast::vec_element(self.ty), ast::option_inner(self.ty)) {
            (Some(element), _) => (element, true),
            (None, Some(inner)) => (inner, false),
            (None, None) => (self.ty, true),
        }
    }
}

/// `&[ChildField { ... }, ...]`: spanned at each child type, where a type
/// that is not a child entity is reported.
pub fn fields_meta(krate: &Path, fields: &[ChildrenField]) -> TokenStream {
    let fields = fields.iter().map(|field| {
        let (element, many) = field.element();
        let name = &field.name;
        let span = element.span();
        let trait_path = respan_tokens(quote!(#krate::backend::ChildEntity), span);
        let meta = quote_spanned!(span=> <#element as #trait_path>::META);
        quote! {
            #krate::backend::ChildField {
                field: #name,
                child: #meta,
                many: #many,
            }
        }
    });
    quote!(&[#(#fields),*])
}

/// `write_children` and `read_children`, when there are `children` fields.
pub fn glue(krate: &Path, fields: &[ChildrenField]) -> TokenStream {
    if fields.is_empty() {
        return TokenStream::new();
    }
    let result = quote!(#krate::__private::Result);
    let (writes, reads): (Vec<_>, Vec<_>) = fields
        .iter()
        .enumerate()
        .map(|(index, field)| {
            let index = Literal::usize_unsuffixed(index);
            let member = field.ident;
            let (element, _) = field.element();
            (
                quote!(writer.field::<#element, _>(#index, &self.#member)?;),
                quote!(self.#member = reader.field::<#element, _>(#index)?;),
            )
        })
        .unzip();
    quote! {
        fn write_children(
            &self,
            writer: &mut #krate::backend::ChildWriter<'_>,
        ) -> #result<(), #krate::Error> {
            #(#writes)*
            #result::Ok(())
        }

        fn read_children(
            &mut self,
            reader: &mut #krate::backend::ChildReader<'_>,
        ) -> #result<(), #krate::Error> {
            #(#reads)*
            #result::Ok(())
        }
    }
}

/// `impl ChildEntity` for an entity with an id. Its bounds (each stored
/// field a `ColumnValue`, each child a `ChildEntity`) are written under a
/// binder, so that an entity that is never a child (one held in a JSON
/// column, say) does not have to meet them: the impl then does not exist,
/// and a `children` field of it is reported where it is declared.
pub fn child_entity_impl(entity: &Entity) -> TokenStream {
    let krate = &entity.krate;
    let ident = entity.ident;
    let Some(id) = entity.id_field() else {
        return TokenStream::new();
    };
    let result = quote!(#krate::__private::Result);
    let vec = quote!(#krate::__private::Vec);
    let name = entity.name();
    let table = &entity.table.value;
    let children: Vec<ChildrenField> = entity
        .children()
        .map(|f| ChildrenField {
            ident: f.ident,
            ty: f.ty,
            name: f.name(),
        })
        .collect();

    let mut bounds = vec![quote!(for<'x> #ident: ::core::marker::Send + ::core::marker::Sync + 'x)];
    let mut columns = Vec::new();
    let mut encode = Vec::new();
    let mut id_index = 0usize;
    for (index, field) in entity.columns() {
        let ty = field.ty;
        bounds.push(quote!(for<'x> #ty: #krate::ColumnValue));
        let column = &field.column.value;
        let field_name = field.name();
        let role = match field.role() {
            Role::Id => {
                id_index = index;
                quote!(Id)
            }
            Role::Finder => quote!(Finder),
            Role::Unique => quote!(Unique),
            Role::Version | Role::Plain => quote!(Plain),
        };
        columns.push(quote! {
            #krate::backend::ColumnMeta {
                name: #krate::__private::child_column_name(#column),
                field: #field_name,
                kind: <#ty as #krate::ColumnValue>::KIND,
                nullable: <#ty as #krate::ColumnValue>::NULLABLE,
                role: #krate::backend::ColumnRole::#role,
            }
        });
        let member = field.ident;
        let index = Literal::usize_unsuffixed(index);
        encode.push(quote!(#krate::__private::encode(&self.#member, #index, row)?;));
    }
    let _ = id;
    let mut column_index = 0usize;
    let decode = entity.fields.iter().map(|field| {
        let member = field.ident;
        if field.children.is_set() {
            return quote!(#member: #krate::__private::Default::default());
        }
        let index = Literal::usize_unsuffixed(column_index);
        column_index += 1;
        quote!(#member: #krate::__private::decode(row, #index)?)
    });
    for field in &children {
        let (element, _) = field.element();
        bounds.push(quote!(for<'x> #element: #krate::backend::ChildEntity));
    }
    let id_index = Literal::usize_unsuffixed(id_index);
    let children_meta = fields_meta(krate, &children);
    let glue = glue(krate, &children);
    quote! {
        #[automatically_derived]
        impl #krate::backend::ChildEntity for #ident
        where
            #(#bounds,)*
        {
            const META: &'static #krate::backend::ChildMeta = &#krate::backend::ChildMeta {
                name: #name,
                table: #table,
                columns: &[#(#columns),*],
                id: #id_index,
                children: #children_meta,
            };

            fn encode(
                &self,
                row: &mut #vec<#krate::backend::Value>,
            ) -> #result<(), #krate::backend::FieldError> {
                #(#encode)*
                #result::Ok(())
            }

            fn decode<R: #krate::backend::RowSource + ?::core::marker::Sized>(
                row: &R,
            ) -> #result<Self, #krate::backend::FieldError> {
                #result::Ok(Self {
                    #(#decode,)*
                })
            }

            #glue
        }
    }
}
