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
            let selector = quote!((&&#krate::__private::Children::<#element>::NEW));
            (
                quote!(#selector.write_field(writer, #index, &self.#member)?;),
                quote!(self.#member = #selector.read_field(reader, #index)?;),
            )
        })
        .unzip();
    quote! {
        #[allow(clippy::needless_borrow)]
        fn write_children(
            &self,
            writer: &mut #krate::backend::ChildWriter<'_>,
        ) -> #result<(), #krate::Error> {
            #(#writes)*
            #result::Ok(())
        }

        #[allow(clippy::needless_borrow)]
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
        if field.id.is_set() {
            id_index = index;
        }
        let role = match field.role() {
            Role::Id => quote!(Id),
            Role::Finder => quote!(Finder),
            Role::Unique => quote!(Unique),
            Role::Version | Role::Plain => quote!(Plain),
        };
        let message = format!(
            "the column `{column}` of child entity `{name}` has the name of a key column every child row has (`root_id`, `parent_id`, `position`): rename it with `#[entity(column = \"...\")]`"
        );
        let span = field.column.span;
        let column_name = quote_spanned! {span=>
            {
                ::core::assert!(!#krate::__private::is_child_key_column(#column), #message);
                #column
            }
        };
        columns.push(quote! {
            #krate::backend::ColumnMeta {
                name: #column_name,
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
    let imports = if children.is_empty() {
        TokenStream::new()
    } else {
        quote! {
            #[allow(unused_imports)]
            use #krate::__private::{MappedChildren as _, UnmappedChildren as _};
        }
    };
    quote! {
        #imports
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

/// `<Entity>Finders`: for each `find_by` / `unique` field of the child, a
/// finder of the aggregates holding such a child, on every repository
/// (`find_by_batch_eta`, `get_by_batch_reference`).
pub fn finders(entity: &Entity) -> TokenStream {
    let krate = &entity.krate;
    let ident = entity.ident;
    let vis = entity.vis;
    let prefix = ast::snake_case(&entity.name());
    let trait_ident = quote::format_ident!("{}Finders", ident);
    let mut declarations = Vec::new();
    let mut implementations = Vec::new();
    for (column, field) in entity.columns() {
        for unique in [false, true] {
            let wanted = if unique { field.unique } else { field.find_by };
            if !wanted.is_set() {
                continue;
            }
            let field_name = field.name();
            let param = field.ident;
            let ty = field.ty;
            let borrowed = ast::option_inner(ty).unwrap_or(ty);
            let column = Literal::usize_unsuffixed(column);
            let (method, output, call, text) = if unique {
                (
                    quote::format_ident!("get_by_{}_{}", prefix, field_name, span = param.span()),
                    quote!(#krate::__private::Option<&mut Self::Root>),
                    quote!(get_by_child_column),
                    format!(
                        "The aggregate holding the `{}` whose `{field_name}` equals `{field_name}`, or `None`.",
                        entity.name()
                    ),
                )
            } else {
                (
                    quote::format_ident!("find_by_{}_{}", prefix, field_name, span = param.span()),
                    quote!(#krate::__private::Vec<&mut Self::Root>),
                    quote!(find_by_child_column),
                    format!(
                        "The aggregates holding a `{}` whose `{field_name}` equals `{field_name}`, the lowest ids first.",
                        entity.name()
                    ),
                )
            };
            let signature = quote! {
                fn #method<Q>(&mut self, #param: &Q) -> impl #krate::__private::Future<
                    Output = #krate::__private::Result<#output, #krate::Error>,
                > + #krate::__private::Send
                where
                    Q: ?::core::marker::Sized + #krate::Key + ::core::marker::Sync,
                    #borrowed: ::core::borrow::Borrow<Q>
            };
            let doc = super::doc(&format!(
                "{text}\n\nAn aggregate this unit of work already loaded is returned as it is here,\nchanges included.\n\n# Errors\n\nThe store's errors; `Error::Schema` if the repository's aggregate holds no\n`{}` children.",
                entity.name()
            ));
            declarations.push(quote!(#doc #signature;));
            implementations.push(quote! {
                #[inline]
                #signature {
                    #krate::__private::#call::<A, S, #ident, Q>(self, #column, #param)
                }
            });
        }
    }
    if declarations.is_empty() {
        return TokenStream::new();
    }
    let trait_doc = super::doc(&format!(
        "Finders of the aggregates holding `{}` children, by the child's `find_by` and `unique`\nfields, on every repository. Generated by `#[derive(Entity)]`; bring it into scope\nto call them.",
        entity.name()
    ));
    quote! {
        #trait_doc
        #[allow(clippy::ptr_arg)]
        #vis trait #trait_ident {
            /// The aggregate the repository holds.
            type Root;
            #(#declarations)*
        }

        #[automatically_derived]
        #[allow(clippy::ptr_arg)]
        impl<A: #krate::Aggregate, S: #krate::Store> #trait_ident for #krate::Repository<A, S>
        where
            for<'x> #ident: #krate::backend::ChildEntity,
        {
            type Root = A;
            #(#implementations)*
        }
    }
}

/// After errors in an entity with an id: `impl ChildEntity` with the
/// right shape and no behaviour, so that a `children` field of it adds no
/// second error.
pub fn placeholder_child_entity_impl(entity: &Entity) -> TokenStream {
    let krate = &entity.krate;
    let ident = entity.ident;
    let name = entity.name();
    let table = &entity.table.value;
    let result = quote!(#krate::__private::Result);
    let vec = quote!(#krate::__private::Vec);
    let unimplemented = super::unimplemented();
    let id_bound = entity.id_field().map(|id| {
        let ty = id.ty;
        quote!(for<'x> #ty: #krate::ColumnValue,)
    });
    quote! {
        #[automatically_derived]
        impl #krate::backend::ChildEntity for #ident
        where
            for<'x> #ident: ::core::marker::Send + ::core::marker::Sync + 'x,
            #id_bound
        {
            const META: &'static #krate::backend::ChildMeta = &#krate::backend::ChildMeta {
                name: #name,
                table: #table,
                columns: &[],
                id: 0,
                children: &[],
            };

            fn encode(
                &self,
                _: &mut #vec<#krate::backend::Value>,
            ) -> #result<(), #krate::backend::FieldError> {
                #unimplemented
            }

            fn decode<R: #krate::backend::RowSource + ?::core::marker::Sized>(
                _: &R,
            ) -> #result<Self, #krate::backend::FieldError> {
                #unimplemented
            }
        }
    }
}
