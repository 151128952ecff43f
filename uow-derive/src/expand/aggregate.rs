//! `#[derive(Aggregate)]`: `Entity` and `Aggregate` impls (metadata, row
//! encoding and decoding, events) and the `<Type>Repository` trait.

use proc_macro2::{Literal, Span, TokenStream, TokenTree};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{DeriveInput, Ident, Type};

use super::entity::{entity_impl, eq_by_id, unimplemented};
use super::{Mode, doc};
use crate::ast::{self, Aggregate, Field, Role};
use crate::ctxt::Ctxt;
use crate::valid;

pub fn derive(input: &DeriveInput) -> syn::Result<TokenStream> {
    let cx = Ctxt::new();
    let aggregate = Aggregate::from_ast(&cx, input);
    if let Some(aggregate) = &aggregate {
        valid::check_aggregate(&cx, aggregate);
    }
    cx.check()?;
    Ok(aggregate.map_or_else(TokenStream::new, |aggregate| {
        generate(&aggregate, Mode::Complete)
    }))
}

pub fn placeholder(input: &DeriveInput) -> TokenStream {
    match Aggregate::from_ast(&Ctxt::new(), input) {
        Some(aggregate) if aggregate.generics.params.is_empty() => {
            generate(&aggregate, Mode::Placeholder)
        }
        _ => TokenStream::new(),
    }
}

fn generate(aggregate: &Aggregate, mode: Mode) -> TokenStream {
    let krate = &aggregate.krate;
    let ident = aggregate.ident;
    let id = aggregate.id_field();

    let entity_impl = entity_impl(krate, ident, id.map(|f| (f.ident, f.ty)), mode);
    let aggregate_impl = match mode {
        Mode::Complete => aggregate_impl(aggregate),
        Mode::Placeholder => placeholder_aggregate_impl(aggregate),
    };
    let eq = match id {
        Some(id) if aggregate.eq_by_id => eq_by_id(ident, id.ident, id.ty),
        _ => TokenStream::new(),
    };
    let (repository_trait, repository_impl) = repository(aggregate);
    let glue = match mode {
        Mode::Complete => columns_glue(krate),
        Mode::Placeholder => TokenStream::new(),
    };

    quote! {
        #repository_trait

        const _: () = {
            #glue
            #entity_impl
            #aggregate_impl
            #eq
            #repository_impl
        };
    }
}

/// How `encode` and `decode` reach a plain column's `ColumnValue` impl: by
/// autoref, `(&&Column::<T>::NEW).__uow_encode(..)` picks the real
/// conversion when `T: ColumnValue` and otherwise a stand-in that is never
/// run (both in `uow_core::__private`). So a field type that cannot be stored
/// is reported once, by its column's `kind_of::<T>()` in `META`, and not once
/// more by each body.
fn columns_glue(krate: &syn::Path) -> TokenStream {
    quote! {
        #[allow(unused_imports)]
        use #krate::__private::{MappedColumn as _, UnmappedColumn as _};
    }
}

fn aggregate_impl(aggregate: &Aggregate) -> TokenStream {
    let krate = &aggregate.krate;
    let ident = aggregate.ident;
    let result = quote!(#krate::__private::Result);
    let vec = quote!(#krate::__private::Vec);

    let event_ty = event_type(aggregate);
    let meta = meta(aggregate);

    // Versions start at 1 and grow by one per commit: the casts of a version
    // that is not a `u64` lose nothing in practice.
    let (version, set_version, cast_lints) = match aggregate.version_field() {
        Some(field) if ast::version_type(field.ty) == Some("u64") => {
            let member = field.ident;
            (
                quote!(self.#member),
                quote!(self.#member = version;),
                TokenStream::new(),
            )
        }
        Some(field) => {
            let member = field.ident;
            let ty = field.ty;
            (
                quote!(self.#member as u64),
                quote!(self.#member = version as #ty;),
                quote! {
                    #[allow(
                        clippy::cast_lossless,
                        clippy::cast_possible_truncation,
                        clippy::cast_possible_wrap,
                        clippy::cast_sign_loss
                    )]
                },
            )
        }
        None => (unimplemented(), unimplemented(), TokenStream::new()),
    };

    // Spanned at the field's type, so that a problem with it is reported
    // there. Plain columns go through `Column` (see `columns_glue`).
    let encode = aggregate.columns().map(|(index, field)| {
        let index = Literal::usize_unsuffixed(index);
        let span = field.ty.span();
        let member = respan(field.ident, span);
        let krate = respan_tokens(krate, span);
        if field.attrs.version.is_set() {
            quote_spanned! {span=>
                #krate::__private::encode_version(#version, #index, row)?;
            }
        } else if field.is_json() {
            quote_spanned! {span=>
                #krate::__private::encode_json(&self.#member, #index, row)?;
            }
        } else {
            let ty = field.ty;
            quote_spanned! {span=>
                (&&#krate::__private::Column::<#ty>::NEW).__uow_encode(&self.#member, #index, row)?;
            }
        }
    });

    let mut index = 0usize;
    let decode = aggregate.fields.iter().map(|field| {
        let member = field.ident;
        let span = field.ty.span();
        if field.is_events() {
            return quote!(#member: #krate::__private::Default::default());
        }
        let column = Literal::usize_unsuffixed(index);
        index += 1;
        let ty = field.ty;
        let krate_at = respan_tokens(krate, span);
        let value = if field.is_json() {
            quote_spanned!(span=> #krate_at::__private::decode_json::<#ty, _>(row, #column)?)
        } else {
            quote_spanned!(span=> (&&#krate::__private::Column::<#ty>::NEW).__uow_decode(row, #column)?)
        };
        quote!(#member: #value)
    });

    let take_events = match aggregate.events_field() {
        Some(field) => {
            let member = field.ident;
            quote!(#krate::__private::take_events(&mut self.#member))
        }
        None => quote!(#vec::new()),
    };

    // The trait requires the id to be a `ColumnValue`; rustc reports that
    // at the trait's name, which is therefore spanned at the id's type.
    let aggregate_trait = match aggregate.id_field() {
        Some(id) => respan_tokens(quote!(#krate::Aggregate), id.ty.span()),
        None => quote!(#krate::Aggregate),
    };

    quote! {
        #[automatically_derived]
        impl #aggregate_trait for #ident {
            type Event = #event_ty;

            const META: &'static #krate::AggregateMeta = &#meta;

            #[inline]
            #cast_lints
            fn version(&self) -> u64 {
                #version
            }

            #[inline]
            #cast_lints
            fn set_version(&mut self, version: u64) {
                #set_version
            }

            // `(&&Column::<T>::NEW)` picks the conversion by autoref.
            #[allow(clippy::needless_borrow)]
            #cast_lints
            fn encode(
                &self,
                row: &mut #vec<#krate::Value>,
            ) -> #result<(), #krate::FieldError> {
                #(#encode)*
                #result::Ok(())
            }

            #[allow(clippy::needless_borrow)]
            fn decode<__UowR: #krate::RowSource + ?::core::marker::Sized>(
                row: &__UowR,
            ) -> #result<Self, #krate::FieldError> {
                #result::Ok(Self {
                    #(#decode,)*
                })
            }

            #[inline]
            fn take_events(&mut self) -> #vec<#event_ty> {
                #take_events
            }
        }
    }
}

/// `AggregateMeta { ... }`.
fn meta(aggregate: &Aggregate) -> TokenStream {
    let krate = &aggregate.krate;
    let name = aggregate.name();
    let table = &aggregate.table.value;
    let columns = aggregate
        .columns()
        .map(|(_, field)| column_meta(aggregate, field));
    let index_of = |field: Option<&Field>| {
        let index = field
            .and_then(|field| aggregate.column_index(field))
            .unwrap_or(0);
        Literal::usize_unsuffixed(index)
    };
    let id = index_of(aggregate.id_field());
    let version = index_of(aggregate.version_field());
    quote! {
        #krate::AggregateMeta {
            name: #name,
            table: #table,
            columns: &[#(#columns),*],
            id: #id,
            version: #version,
        }
    }
}

fn column_meta(aggregate: &Aggregate, field: &Field) -> TokenStream {
    let krate = &aggregate.krate;
    let name = &field.column.value;
    let field_name = field.name();
    let ty = field.ty;
    let (kind, nullable) = if field.is_json() {
        (quote!(#krate::ColumnKind::Json), quote!(false))
    } else if field.attrs.id.is_set() {
        // Known through `Self: Aggregate`, whose impl reports an id that is
        // not a `ColumnValue`: no second error here.
        (
            quote!(#krate::__private::id_kind::<Self>()),
            quote!(#krate::__private::id_nullable::<Self>()),
        )
    } else {
        // Spanned from the first to the last token of the type, so that
        // rustc underlines all of `Vec<String>`, not only `Vec`.
        let (first, last) = type_ends(ty);
        let krate = respan_tokens(krate, first);
        let close = quote_spanned!(last=> >);
        (
            quote_spanned!(first=> #krate::__private::kind_of::<#ty #close()),
            quote_spanned!(first=> #krate::__private::nullable::<#ty #close()),
        )
    };
    // `decimal(precision = P, scale = S)`: checked in the `META` constant
    // (a Decimal field, P and S in range), so a mistake is a compile error.
    let kind = match &field.attrs.decimal {
        Some(decimal) => {
            let (precision, scale) = (&decimal.precision, &decimal.scale);
            quote_spanned!(decimal.path.span()=>
                #krate::__private::fixed_decimal(#kind, #precision, #scale))
        }
        None => kind,
    };
    let role = match field.role() {
        Role::Id => quote!(Id),
        Role::Version => quote!(Version),
        Role::Finder => quote!(Finder),
        Role::Unique => quote!(Unique),
        Role::Plain => quote!(Plain),
    };
    quote! {
        #krate::ColumnMeta {
            name: #name,
            field: #field_name,
            kind: #kind,
            nullable: #nullable,
            role: #krate::ColumnRole::#role,
        }
    }
}

/// The `Event` type: the element of the events field, or `NoEvents`.
fn event_type(aggregate: &Aggregate) -> TokenStream {
    let krate = &aggregate.krate;
    match aggregate
        .events_field()
        .and_then(|f| ast::vec_element(f.ty))
    {
        Some(ty) => quote!(#ty),
        None => quote!(#krate::NoEvents),
    }
}

/// After errors: the same types, no behaviour.
fn placeholder_aggregate_impl(aggregate: &Aggregate) -> TokenStream {
    let krate = &aggregate.krate;
    let ident = aggregate.ident;
    let result = quote!(#krate::__private::Result);
    let vec = quote!(#krate::__private::Vec);
    let event_ty = event_type(aggregate);
    let name = aggregate.name();
    let table = &aggregate.table.value;
    let unimplemented = unimplemented();
    quote! {
        #[automatically_derived]
        impl #krate::Aggregate for #ident {
            type Event = #event_ty;

            const META: &'static #krate::AggregateMeta = &#krate::AggregateMeta {
                name: #name,
                table: #table,
                columns: &[],
                id: 0,
                version: 0,
            };

            fn version(&self) -> u64 {
                #unimplemented
            }

            fn set_version(&mut self, _: u64) {
                #unimplemented
            }

            fn encode(&self, _: &mut #vec<#krate::Value>) -> #result<(), #krate::FieldError> {
                #unimplemented
            }

            fn decode<__UowR: #krate::RowSource + ?::core::marker::Sized>(
                _: &__UowR,
            ) -> #result<Self, #krate::FieldError> {
                #unimplemented
            }

            fn take_events(&mut self) -> #vec<#event_ty> {
                #unimplemented
            }
        }
    }
}

/// A finder or unique getter of the repository trait.
struct Lookup<'f> {
    field: &'f Field<'f>,
    column: usize,
    unique: bool,
}

/// The repository trait (outside the `const _` block, so that users can
/// name it) and its impl for `uow_core::Repository`.
fn repository(aggregate: &Aggregate) -> (TokenStream, TokenStream) {
    let krate = &aggregate.krate;
    let ident = aggregate.ident;
    let vis = aggregate.vis;
    let name = aggregate.name();
    let trait_ident = format_ident!("{}Repository", name, span = ident.span());
    let id_ty = match aggregate.id_field() {
        Some(field) => field.ty.to_token_stream(),
        None => quote!(u64),
    };

    let result = |ok: TokenStream| quote!(#krate::__private::Result<#ok, #krate::Error>);
    let future = |output: TokenStream| quote!(impl #krate::__private::Future<Output = #output> + #krate::__private::Send);
    let option_mut = quote!(#krate::__private::Option<&mut #ident>);
    let vec_mut = quote!(#krate::__private::Vec<&mut #ident>);
    let get_output = future(result(option_mut.clone()));
    let add_output = result(quote!(()));
    let remove_output = future(result(quote!(())));
    let list_output = future(result(vec_mut.clone()));
    let delegate = quote!(#krate::Repository::<#ident, __UowS>);

    let lookups: Vec<Lookup> = aggregate
        .columns()
        .flat_map(|(column, field)| {
            let stored_lookup = !field.is_json() && field.role() != Role::Id;
            let finder = (stored_lookup && field.attrs.find_by.is_set()).then_some(Lookup {
                field,
                column,
                unique: false,
            });
            let getter = (stored_lookup && field.attrs.unique.is_set()).then_some(Lookup {
                field,
                column,
                unique: true,
            });
            finder.into_iter().chain(getter)
        })
        .collect();

    let mut lookup_decls = Vec::new();
    let mut lookup_impls = Vec::new();
    for lookup in &lookups {
        let field = lookup.field;
        let field_name = field.name();
        let param = field.ident;
        let ty = field.ty;
        let borrowed = ast::option_inner(ty).unwrap_or(ty);
        let q = key_param(borrowed);
        let column = Literal::usize_unsuffixed(lookup.column);
        let (method, output, method_doc, call) = if lookup.unique {
            (
                format_ident!("get_by_{}", field_name, span = param.span()),
                future(result(option_mut.clone())),
                doc(&format!(
                    "The `{name}` whose `{field_name}` equals `{field_name}`, or `None` if none is\n\
                     stored.\n\
                     \n\
                     An aggregate this unit of work already loaded is returned as it is here,\n\
                     changes included."
                )),
                quote!(get_by_column),
            )
        } else {
            (
                format_ident!("find_by_{}", field_name, span = param.span()),
                future(result(vec_mut.clone())),
                doc(&format!(
                    "The `{name}` aggregates whose `{field_name}` equals `{field_name}`, the lowest\n\
                     ids first.\n\
                     \n\
                     The store is queried as committed; aggregates this unit of work already loaded\n\
                     are returned as they are here, changes included."
                )),
                quote!(find_by_column),
            )
        };
        let where_clause = quote! {
            where
                #q: ?::core::marker::Sized + #krate::Key + ::core::marker::Sync,
                #borrowed: ::core::borrow::Borrow<#q>,
        };
        lookup_decls.push(quote! {
            #method_doc
            fn #method<#q>(&mut self, #param: &#q) -> #output
            #where_clause;
        });
        lookup_impls.push(quote! {
            #[inline]
            fn #method<#q>(&mut self, #param: &#q) -> #output
            #where_clause
            {
                #delegate::#call(self, #column, #param)
            }
        });
    }

    let lookup_list = lookups
        .iter()
        .map(|lookup| {
            let prefix = if lookup.unique { "get_by_" } else { "find_by_" };
            format!("`{prefix}{}`", lookup.field.name())
        })
        .collect::<Vec<_>>()
        .join(", ");
    let mut trait_doc = format!(
        "The repository of `{name}` aggregates: the collection-like port through which a unit of\n\
         work loads and stores them. Generated by `#[derive(Aggregate)]`.\n\
         \n\
         A unit of work field of type `{name}` is a `Repository<{name}, S>`, which implements this\n\
         trait for every store `S`."
    );
    if !lookups.is_empty() {
        trait_doc.push_str(&format!(
            "\nBring the trait into scope to call its finders: {lookup_list}."
        ));
    }
    let trait_doc = doc(&trait_doc);
    let get_doc = doc(&format!(
        "The `{name}` with this id, or `None` if none is stored (or it was removed in this\n\
         unit of work).\n\
         \n\
         Loading an id twice returns the same object; changes to it are stored by `commit()`."
    ));
    let add_doc = doc(&format!(
        "Stages `aggregate` for insertion at commit, with version 1.\n\
         \n\
         Fails at once if this unit of work already holds a `{name}` with the same id; an id\n\
         taken in the store is reported by `commit()`."
    ));
    let remove_doc = doc(&format!(
        "Stages the `{name}` with this id for deletion at commit, checked against the version\n\
         it was loaded with. Fails with `Error::NotFound` if it is not stored."
    ));
    let list_doc = doc(&format!(
        "At most `limit` `{name}` aggregates, the lowest ids first."
    ));

    let repository_trait = quote! {
        #trait_doc
        // `id: &String` for a `String` id: the id type as declared.
        #[allow(clippy::ptr_arg)]
        #vis trait #trait_ident {
            #get_doc
            fn get(&mut self, id: &#id_ty) -> #get_output;

            #add_doc
            fn add(&mut self, aggregate: #ident) -> #add_output;

            #remove_doc
            fn remove(&mut self, id: &#id_ty) -> #remove_output;

            #list_doc
            fn list(&mut self, limit: u64) -> #list_output;

            #(#lookup_decls)*
        }
    };

    let repository_impl = quote! {
        #[automatically_derived]
        impl<__UowS: #krate::Store> #trait_ident for #krate::Repository<#ident, __UowS> {
            #[inline]
            fn get(&mut self, id: &#id_ty) -> #get_output {
                #delegate::get(self, id)
            }

            #[inline]
            fn add(&mut self, aggregate: #ident) -> #add_output {
                #delegate::add(self, aggregate)
            }

            #[inline]
            fn remove(&mut self, id: &#id_ty) -> #remove_output {
                #delegate::remove(self, id)
            }

            #[inline]
            fn list(&mut self, limit: u64) -> #list_output {
                #delegate::list(self, limit)
            }

            #(#lookup_impls)*
        }
    };

    (repository_trait, repository_impl)
}

/// The spans of the first and the last token of `ty`. rustc reports code
/// whose tokens run from one to the other under the whole type as written.
pub(super) fn type_ends(ty: &Type) -> (Span, Span) {
    let mut tokens = ty.to_token_stream().into_iter();
    let first = tokens
        .next()
        .map_or_else(|| ty.span(), |token| token.span());
    let last = tokens.last().map_or(first, |token| token.span());
    (first, last)
}

/// `ident` with `span`, so that an expression naming the field is reported
/// at the field's type.
pub(super) fn respan(ident: &Ident, span: Span) -> Ident {
    let mut ident = ident.clone();
    ident.set_span(span);
    ident
}

/// `tokens` with every span set to `span`: the crate path inside code that is
/// spanned at a field's type, so that rustc can point at the type.
pub(super) fn respan_tokens<T: ToTokens>(tokens: T, span: Span) -> TokenStream {
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

/// The type parameter of a finder's key: `Q`, unless the field's type
/// mentions a type of that name.
fn key_param(ty: &Type) -> Ident {
    fn mentions(tokens: TokenStream, name: &str) -> bool {
        tokens.into_iter().any(|token| match token {
            TokenTree::Ident(ident) => ident == name,
            TokenTree::Group(group) => mentions(group.stream(), name),
            TokenTree::Punct(_) | TokenTree::Literal(_) => false,
        })
    }
    if mentions(ty.to_token_stream(), "Q") {
        format_ident!("__UowQ")
    } else {
        format_ident!("Q")
    }
}
