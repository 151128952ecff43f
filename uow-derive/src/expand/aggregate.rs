//! `#[derive(Aggregate)]`: `Entity` and `Aggregate` impls (metadata, row
//! encoding and decoding, events) and the `<Type>Repository` trait.
//!
//! Code that can fail because of a field's type is spanned at that type and
//! fails in one place only: `META`, where each column's kind is read through
//! a trait-qualified path (`<T as ColumnValue>::KIND`, `<T as
//! VersionNumber>::KIND`, serde's traits for JSON). The bodies reach the same
//! conversions through autoref selectors (`uow_core::__private::{Column,
//! Json, Version}`) that fall back to a stand-in, so that they add no second
//! error.

use proc_macro2::{Literal, Span, TokenStream, TokenTree};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{DeriveInput, Ident, Path, Type};

use super::children;
use super::entity::{entity_impl, eq_by_id};
use super::spans::{respan, respan_tokens, type_ends};
use super::{Mode, doc, unimplemented};
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
        Some(aggregate) if aggregate.generics.params.is_empty() && aggregate.krate_found => {
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
    let repository = Repository::new(aggregate);
    let repository_trait = repository.declaration();
    let repository_impl = repository.implementation();
    let (glue, checks) = match mode {
        Mode::Complete => (conversions_glue(krate), fields_are_thread_safe(aggregate)),
        Mode::Placeholder => (TokenStream::new(), TokenStream::new()),
    };

    let query_fields = super::query::fields(aggregate);

    let krate_use = &aggregate.krate_use;
    quote! {
        #krate_use
        #repository_trait

        const _: () = {
            #glue
            #checks
            #entity_impl
            #aggregate_impl
            #eq
            #repository_impl
            #query_fields
        };
    }
}

/// How the bodies reach a field's conversion: by autoref,
/// `(&&Column::<T>::NEW).encode_column(..)` picks the real conversion when
/// `T: ColumnValue` and otherwise a stand-in that is never run (likewise
/// `Json` for `json` fields and `Version` for the version). So a field type
/// that cannot be stored is reported once, by its column in `META`, and not
/// once more by each body.
fn conversions_glue(krate: &Path) -> TokenStream {
    quote! {
        #[allow(unused_imports)]
        use #krate::__private::{
            MappedChildren as _, MappedColumn as _, MappedJson as _, MappedVersion as _,
            UnmappedChildren as _, UnmappedColumn as _, UnmappedJson as _, UnmappedVersion as _,
        };
    }
}

fn aggregate_impl(aggregate: &Aggregate) -> TokenStream {
    let krate = &aggregate.krate;
    let ident = aggregate.ident;
    let result = quote!(#krate::__private::Result);
    let vec = quote!(#krate::__private::Vec);

    let event_ty = event_type(aggregate);
    let meta = meta(aggregate);
    let (version, set_version) = version_access(aggregate);
    let encode = aggregate
        .columns()
        .map(|(index, field)| encode_field(krate, index, field));
    let same = aggregate
        .columns()
        .filter_map(|(index, field)| same_field(krate, index, field));
    let columns = Literal::usize_unsuffixed(aggregate.columns().count());
    let refresh = aggregate
        .columns()
        .filter_map(|(index, field)| refresh_field(krate, index, field));
    let decode = decode_fields(aggregate);
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

    let thread_safe = thread_safe_bounds(aggregate);
    let children_glue = children::glue(krate, &children_fields(aggregate));
    quote! {
        #[automatically_derived]
        impl #aggregate_trait for #ident #thread_safe {
            type Event = #event_ty;

            const META: &'static #krate::backend::AggregateMeta = &#meta;

            // `(&&Version::<T>::NEW)` picks the conversion by autoref.
            #[inline]
            #[allow(clippy::needless_borrow)]
            fn version(&self) -> u64 {
                #version
            }

            #[inline]
            #[allow(clippy::needless_borrow)]
            fn set_version(&mut self, version: u64) {
                #set_version
            }

            #[allow(clippy::needless_borrow)]
            fn encode(
                &self,
                row: &mut #vec<#krate::backend::Value>,
            ) -> #result<(), #krate::backend::FieldError> {
                #(#encode)*
                #result::Ok(())
            }

            #[allow(clippy::needless_borrow)]
            fn same_row(&self, stored: &[#krate::backend::Value]) -> bool {
                stored.len() == #columns #(&& #same)*
            }

            #[allow(clippy::needless_borrow)]
            fn refresh_row(
                &self,
                row: &mut [#krate::backend::Value],
                replaced: &mut #vec<(usize, #krate::backend::Value)>,
            ) -> #result<(), #krate::backend::FieldError> {
                #(#refresh)*
                #result::Ok(())
            }

            #[allow(clippy::needless_borrow)]
            fn decode<R: #krate::backend::RowSource + ?::core::marker::Sized>(
                row: &R,
            ) -> #result<Self, #krate::backend::FieldError> {
                #result::Ok(Self {
                    #(#decode,)*
                })
            }

            #[inline]
            fn take_events(&mut self) -> #vec<#event_ty> {
                #take_events
            }

            #children_glue
        }
    }
}

/// The bodies of `version` and `set_version`, through the version type's
/// `VersionNumber` impl (any alias or path of `u64`, `i64`, `u32`, `i32`).
fn version_access(aggregate: &Aggregate) -> (TokenStream, TokenStream) {
    let krate = &aggregate.krate;
    match aggregate.version_field() {
        Some(field) => {
            let member = field.ident;
            let ty = field.ty;
            let selector = quote!((&&#krate::__private::Version::<#ty>::NEW));
            (
                quote!(#selector.to_version(&self.#member)),
                quote!(self.#member = #selector.version_as(version);),
            )
        }
        None => (unimplemented(), unimplemented()),
    }
}

/// Pushes one field's column onto `row`; spanned at the field's type, so
/// that a problem with it is reported there.
fn encode_field(krate: &Path, index: usize, field: &Field) -> TokenStream {
    let index = Literal::usize_unsuffixed(index);
    let span = field.ty.span();
    let member = respan(field.ident, span);
    let krate = respan_tokens(krate, span);
    let ty = field.ty;
    if field.attrs.version.is_set() {
        quote_spanned! {span=>
            #krate::__private::encode_version(
                (&&#krate::__private::Version::<#ty>::NEW).to_version(&self.#member),
                #index,
                row,
            )?;
        }
    } else if field.is_json() {
        quote_spanned! {span=>
            (&&#krate::__private::Json::<#ty>::NEW).encode_json_column(&self.#member, #index, row)?;
        }
    } else {
        quote_spanned! {span=>
            (&&#krate::__private::Column::<#ty>::NEW).encode_column(&self.#member, #index, row)?;
        }
    }
}

/// Whether one field encodes to its stored column (`None` for the version,
/// which the dirty check leaves to the unit of work).
fn same_field(krate: &Path, index: usize, field: &Field) -> Option<TokenStream> {
    if field.attrs.version.is_set() {
        return None;
    }
    let index = Literal::usize_unsuffixed(index);
    let span = field.ty.span();
    let member = respan(field.ident, span);
    let krate = respan_tokens(krate, span);
    let ty = field.ty;
    Some(if field.is_json() {
        quote_spanned! {span=>
            (&&#krate::__private::Json::<#ty>::NEW).same_json_column(&self.#member, &stored[#index])
        }
    } else {
        quote_spanned! {span=>
            (&&#krate::__private::Column::<#ty>::NEW).same_column(&self.#member, &stored[#index])
        }
    })
}

/// Replaces one field's stored value in `row` when it changed (`None` for
/// the version, which the unit of work writes).
fn refresh_field(krate: &Path, index: usize, field: &Field) -> Option<TokenStream> {
    if field.attrs.version.is_set() {
        return None;
    }
    let index = Literal::usize_unsuffixed(index);
    let span = field.ty.span();
    let member = respan(field.ident, span);
    let krate = respan_tokens(krate, span);
    let ty = field.ty;
    let (selector, same, value) = if field.is_json() {
        (
            quote_spanned!(span=> (&&#krate::__private::Json::<#ty>::NEW)),
            quote!(same_json_column),
            quote!(json_column_value),
        )
    } else {
        (
            quote_spanned!(span=> (&&#krate::__private::Column::<#ty>::NEW)),
            quote!(same_column),
            quote!(column_value),
        )
    };
    Some(quote_spanned! {span=>
        if !#selector.#same(&self.#member, &row[#index]) {
            let value = #selector.#value(&self.#member, #index)?;
            replaced.push((#index, #krate::__private::replace(&mut row[#index], value)));
        }
    })
}

/// `field: value` for each field of the struct, read from its column (the
/// events field starts empty).
fn decode_fields(aggregate: &Aggregate) -> Vec<TokenStream> {
    let krate = &aggregate.krate;
    let mut index = 0usize;
    aggregate
        .fields
        .iter()
        .map(|field| {
            let member = field.ident;
            let span = field.ty.span();
            if field.is_events() || field.is_children() {
                return quote!(#member: #krate::__private::Default::default());
            }
            let column = Literal::usize_unsuffixed(index);
            index += 1;
            let ty = field.ty;
            let krate = respan_tokens(krate, span);
            let value = if field.is_json() {
                quote_spanned!(span=> (&&#krate::__private::Json::<#ty>::NEW).decode_json_column(row, #column)?)
            } else {
                quote_spanned!(span=> (&&#krate::__private::Column::<#ty>::NEW).decode_column(row, #column)?)
            };
            quote!(#member: #value)
        })
        .collect()
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
    let indexes = aggregate.index_columns().into_iter().map(|columns| {
        let columns = columns.into_iter().map(Literal::usize_unsuffixed);
        quote!(&[#(#columns),*])
    });
    let children = children::fields_meta(krate, &children_fields(aggregate));
    quote! {
        #krate::backend::AggregateMeta {
            name: #name,
            table: #table,
            columns: &[#(#columns),*],
            id: #id,
            version: #version,
            indexes: &[#(#indexes),*],
            children: #children,
        }
    }
}

/// The `#[aggregate(children)]` fields.
fn children_fields<'a>(aggregate: &'a Aggregate<'a>) -> Vec<children::ChildrenField<'a>> {
    aggregate
        .children()
        .map(|f| children::ChildrenField {
            ident: f.ident,
            ty: f.ty,
            name: f.name(),
        })
        .collect()
}

/// One `ColumnMeta`: the place where a field type that cannot be stored in
/// its role is reported, once, at the type.
fn column_meta(aggregate: &Aggregate, field: &Field) -> TokenStream {
    let krate = &aggregate.krate;
    let name = &field.column.value;
    let field_name = field.name();
    let (kind, nullable) = if field.attrs.id.is_set() {
        id_column_kind(aggregate, field)
    } else if field.attrs.version.is_set() {
        let (trait_path, close) = at_type(krate, field.ty, quote!(VersionNumber));
        let ty = field.ty;
        (
            quote_spanned!(ty.span()=> <#ty as #trait_path #close::KIND),
            quote!(false),
        )
    } else if field.is_json() {
        (json_column_kind(krate, field.ty), quote!(false))
    } else {
        let (trait_path, close) = at_type(krate, field.ty, quote!(ColumnValue));
        let ty = field.ty;
        (
            quote_spanned!(ty.span()=> <#ty as #trait_path #close::KIND),
            quote_spanned!(ty.span()=> <#ty as #trait_path #close::NULLABLE),
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
        Role::Plain if aggregate.in_index(field) => quote!(Indexed),
        Role::Plain => quote!(Plain),
    };
    quote! {
        #krate::backend::ColumnMeta {
            name: #name,
            field: #field_name,
            kind: #kind,
            nullable: #nullable,
            role: #krate::backend::ColumnRole::#role,
        }
    }
}

/// `#krate::#name` spanned from the first to the last token of `ty`, and the
/// closing `>` spanned at its end: rustc underlines all of `Vec<String>`,
/// not only `Vec`.
fn at_type(krate: &Path, ty: &Type, name: TokenStream) -> (TokenStream, TokenStream) {
    let (first, last) = type_ends(ty);
    let path = respan_tokens(quote!(#krate::#name), first);
    (path, quote_spanned!(last=> >))
}

/// The id's kind, known through `Self: Aggregate` (whose impl reports an id
/// that is not a `ColumnValue`: no second error here), and the check that
/// it is not nullable whatever alias its type is written with (`Option<...>`
/// itself is refused by `valid`, with a better message): an assertion in
/// `META`, evaluated where the aggregate is used (by `cargo build` and
/// `cargo test`), failing at the id's type.
fn id_column_kind(aggregate: &Aggregate, field: &Field) -> (TokenStream, TokenStream) {
    let krate = &aggregate.krate;
    let span = field.ty.span();
    let message = format!(
        "the id `{}` of `{}` has a nullable type (an `Option`): a primary key is never NULL; give it the type of the value inside the `Option`",
        field.name(),
        aggregate.name()
    );
    (
        quote!(#krate::__private::id_kind::<Self>()),
        quote_spanned! {span=>
            {
                ::core::assert!(!#krate::__private::id_nullable::<Self>(), #message);
                false
            }
        },
    )
}

/// An aggregate is `Send + Sync` and its events are `Send` (`Aggregate`
/// requires both). The impls assume it — the binder keeps rustc from
/// checking the bound where it is written — and `fields_are_thread_safe`
/// checks it field by field: a field or event type that is not thread-safe
/// is one error at that type, not one at the struct and more in every
/// async method of the repository.
fn thread_safe_bounds(aggregate: &Aggregate) -> TokenStream {
    let ident = aggregate.ident;
    let event_ty = event_type(aggregate);
    quote! {
        where
            for<'x> #ident: ::core::marker::Send + ::core::marker::Sync + 'x,
            for<'x> #event_ty: ::core::marker::Send + 'x,
    }
}

/// The checks `thread_safe_bounds` relies on: each stored field's type is
/// `Send + Sync`, the event type is `Send`; each at the type.
fn fields_are_thread_safe(aggregate: &Aggregate) -> TokenStream {
    let checks = aggregate.fields.iter().map(|field| {
        if field.is_events() {
            let element = ast::vec_element(field.ty).unwrap_or(field.ty);
            quote_spanned!(element.span()=> sent_between_threads::<#element>();)
        } else {
            let ty = field.ty;
            quote_spanned!(ty.span()=> shared_between_threads::<#ty>();)
        }
    });
    quote! {
        #[allow(dead_code)]
        fn fields_are_thread_safe() {
            fn shared_between_threads<
                T: ?::core::marker::Sized + ::core::marker::Send + ::core::marker::Sync,
            >() {
            }
            fn sent_between_threads<T: ?::core::marker::Sized + ::core::marker::Send>() {}
            #(#checks)*
        }
    }
}

/// The kind of a `json` column, with serde's traits named at the field's
/// type so that a type serde cannot write or read is reported there (one
/// error per missing impl).
fn json_column_kind(krate: &Path, ty: &Type) -> TokenStream {
    let span = ty.span();
    let (serialize, close) = at_type(krate, ty, quote!(__private::serde::Serialize));
    let (deserialize, _) = at_type(krate, ty, quote!(__private::serde::Deserialize));
    let krate_at = respan_tokens(krate, span);
    quote_spanned! {span=>
        {
            let _ = <#ty as #serialize #close::serialize::<#krate_at::__private::JsonSerializer>;
            let _ = <#ty as #deserialize<'static> #close::deserialize::<#krate_at::__private::JsonDeserializer>;
            #krate_at::backend::ColumnKind::Json
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
    // As in `aggregate_impl`: an id that is no `ColumnValue` is reported at
    // its type.
    let aggregate_trait = match aggregate.id_field() {
        Some(id) => respan_tokens(quote!(#krate::Aggregate), id.ty.span()),
        None => quote!(#krate::Aggregate),
    };
    quote! {
        #[automatically_derived]
        impl #aggregate_trait for #ident {
            type Event = #event_ty;

            const META: &'static #krate::backend::AggregateMeta = &#krate::backend::AggregateMeta {
                name: #name,
                table: #table,
                columns: &[],
                id: 0,
                version: 0,
                indexes: &[],
                children: &[],
            };

            fn version(&self) -> u64 {
                #unimplemented
            }

            fn set_version(&mut self, _: u64) {
                #unimplemented
            }

            fn encode(&self, _: &mut #vec<#krate::backend::Value>) -> #result<(), #krate::backend::FieldError> {
                #unimplemented
            }

            fn decode<R: #krate::backend::RowSource + ?::core::marker::Sized>(
                _: &R,
            ) -> #result<Self, #krate::backend::FieldError> {
                #unimplemented
            }

            fn take_events(&mut self) -> #vec<#event_ty> {
                #unimplemented
            }
        }
    }
}

/// The repository trait of an aggregate: its name, and its methods, each
/// with its signature written once for the declaration and the impl.
struct Repository<'a> {
    aggregate: &'a Aggregate<'a>,
    ident: Ident,
    /// The store parameter of the impl for `uow_core::Repository<A, S>`.
    store: Ident,
    methods: Vec<Method>,
}

/// One method of the repository trait.
struct Method {
    doc: TokenStream,
    /// `fn name(...) -> Output`, with its where clause.
    signature: TokenStream,
    /// The impl's body, delegating to `uow_core`.
    body: TokenStream,
}

/// A finder or unique getter of the repository trait.
struct Lookup<'f> {
    field: &'f Field<'f>,
    column: usize,
    unique: bool,
}

impl<'a> Repository<'a> {
    fn new(aggregate: &'a Aggregate<'a>) -> Self {
        let ident = match &aggregate.repository {
            Some(ident) => ident.clone(),
            None => format_ident!(
                "{}Repository",
                aggregate.name(),
                span = aggregate.ident.span()
            ),
        };
        let mentioned: Vec<TokenStream> = std::iter::once(aggregate.ident.to_token_stream())
            .chain(aggregate.fields.iter().map(|f| f.ty.to_token_stream()))
            .collect();
        let store = fresh_ident(&["S", "St", "Store"], &mentioned);
        let mut repository = Repository {
            aggregate,
            ident,
            store,
            methods: Vec::new(),
        };
        repository.methods = repository.base_methods();
        for lookup in lookups(aggregate) {
            let method = repository.lookup_method(&lookup);
            repository.methods.push(method);
        }
        repository
    }

    fn result(&self, ok: TokenStream) -> TokenStream {
        let krate = &self.aggregate.krate;
        quote!(#krate::__private::Result<#ok, #krate::Error>)
    }

    fn future(&self, output: TokenStream) -> TokenStream {
        let krate = &self.aggregate.krate;
        quote!(impl #krate::__private::Future<Output = #output> + #krate::__private::Send)
    }

    fn option_mut(&self) -> TokenStream {
        let (krate, ident) = (&self.aggregate.krate, self.aggregate.ident);
        quote!(#krate::__private::Option<&mut #ident>)
    }

    fn vec_mut(&self) -> TokenStream {
        let (krate, ident) = (&self.aggregate.krate, self.aggregate.ident);
        quote!(#krate::__private::Vec<&mut #ident>)
    }

    /// `uow_core::Repository::<A, S>`, whose inherent methods the impl
    /// calls.
    fn delegate(&self) -> TokenStream {
        let (krate, ident, store) = (&self.aggregate.krate, self.aggregate.ident, &self.store);
        quote!(#krate::Repository::<#ident, #store>)
    }

    /// `get`, `add`, `remove` and `list`.
    fn base_methods(&self) -> Vec<Method> {
        let aggregate = self.aggregate;
        let name = aggregate.name();
        let ident = aggregate.ident;
        let id_ty = match aggregate.id_field() {
            Some(field) => field.ty.to_token_stream(),
            None => quote!(u64),
        };
        let delegate = self.delegate();
        let get_output = self.future(self.result(self.option_mut()));
        let add_output = self.result(quote!(()));
        let remove_output = self.future(self.result(quote!(())));
        let list_output = self.future(self.result(self.vec_mut()));
        vec![
            Method {
                doc: doc(&format!(
                    "The `{name}` with this id, or `None` if none is stored (or it was removed in this\n\
                     unit of work).\n\
                     \n\
                     Loading an id twice returns the same object; changes to it are stored by `commit()`.\n\
                     \n\
                     # Errors\n\
                     \n\
                     The store's errors (`Error::Backend`, `Error::Decode`)."
                )),
                signature: quote!(fn get(&mut self, id: &#id_ty) -> #get_output),
                body: quote!(#delegate::get(self, id)),
            },
            Method {
                doc: doc(&format!(
                    "Stages `aggregate` for insertion at commit, with version 1.\n\
                     \n\
                     # Errors\n\
                     \n\
                     `Error::Duplicate` at once if this unit of work already holds a `{name}` with the\n\
                     same id; an id taken in the store is reported by `commit()`."
                )),
                signature: quote!(fn add(&mut self, aggregate: #ident) -> #add_output),
                body: quote!(#delegate::add(self, aggregate)),
            },
            Method {
                doc: doc(&format!(
                    "Stages the `{name}` with this id for deletion at commit, checked against the version\n\
                     it was loaded with.\n\
                     \n\
                     # Errors\n\
                     \n\
                     `Error::NotFound` if it is not stored; the store's errors."
                )),
                signature: quote!(fn remove(&mut self, id: &#id_ty) -> #remove_output),
                body: quote!(#delegate::remove(self, id)),
            },
            Method {
                doc: doc(&format!(
                    "At most `limit` `{name}` aggregates, the lowest ids first.\n\
                     \n\
                     # Errors\n\
                     \n\
                     The store's errors."
                )),
                signature: quote!(fn list(&mut self, limit: u64) -> #list_output),
                body: quote!(#delegate::list(self, limit)),
            },
        ]
    }

    /// `find_by_<field>` or `get_by_<field>`, generic over the borrowed
    /// form of the key.
    fn lookup_method(&self, lookup: &Lookup) -> Method {
        let krate = &self.aggregate.krate;
        let name = self.aggregate.name();
        let field = lookup.field;
        let field_name = field.name();
        let param = field.ident;
        let ty = field.ty;
        let borrowed = ast::option_inner(ty).unwrap_or(ty);
        let mentioned = [
            ty.to_token_stream(),
            self.aggregate.ident.to_token_stream(),
            self.store.to_token_stream(),
        ];
        let q = fresh_ident(&["Q", "K", "Key"], &mentioned);
        let column = Literal::usize_unsuffixed(lookup.column);
        let (method, output, method_doc, call) = if lookup.unique {
            (
                format_ident!("get_by_{}", field_name, span = param.span()),
                self.future(self.result(self.option_mut())),
                doc(&format!(
                    "The `{name}` whose `{field_name}` equals `{field_name}`, or `None` if none is\n\
                     stored.\n\
                     \n\
                     An aggregate this unit of work already loaded is returned as it is here,\n\
                     changes included.\n\
                     \n\
                     # Errors\n\
                     \n\
                     The store's errors."
                )),
                quote!(get_by_column),
            )
        } else {
            (
                format_ident!("find_by_{}", field_name, span = param.span()),
                self.future(self.result(self.vec_mut())),
                doc(&format!(
                    "The `{name}` aggregates whose `{field_name}` equals `{field_name}`, the lowest\n\
                     ids first.\n\
                     \n\
                     The store is queried as committed; aggregates this unit of work already loaded\n\
                     are returned as they are here, changes included.\n\
                     \n\
                     # Errors\n\
                     \n\
                     The store's errors."
                )),
                quote!(find_by_column),
            )
        };
        Method {
            doc: method_doc,
            signature: quote! {
                fn #method<#q>(&mut self, #param: &#q) -> #output
                where
                    #q: ?::core::marker::Sized + #krate::Key + ::core::marker::Sync,
                    #borrowed: ::core::borrow::Borrow<#q>
            },
            body: quote!(#krate::__private::#call(self, #column, #param)),
        }
    }

    /// The trait (outside the `const _` block, so that users can name it).
    fn declaration(&self) -> TokenStream {
        let aggregate = self.aggregate;
        let name = aggregate.name();
        let vis = aggregate.vis;
        let ident = &self.ident;
        let lookup_list = lookups(aggregate)
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
        if !lookup_list.is_empty() {
            trait_doc.push_str(&format!(
                "\nBring the trait into scope to call its finders: {lookup_list}."
            ));
        }
        let trait_doc = doc(&trait_doc);
        let methods = self.methods.iter().map(|method| {
            let (doc, signature) = (&method.doc, &method.signature);
            quote!(#doc #signature;)
        });
        quote! {
            #trait_doc
            // `id: &String` for a `String` id: the id type as declared.
            #[allow(clippy::ptr_arg)]
            #vis trait #ident {
                #(#methods)*
            }
        }
    }

    /// The impl for `uow_core::Repository<A, S>`.
    fn implementation(&self) -> TokenStream {
        let krate = &self.aggregate.krate;
        let aggregate = self.aggregate.ident;
        let (ident, store) = (&self.ident, &self.store);
        let methods = self.methods.iter().map(|method| {
            let (signature, body) = (&method.signature, &method.body);
            quote! {
                #[inline]
                #signature {
                    #body
                }
            }
        });
        // See `thread_safe_bounds`: assumed here too, so that the futures
        // of the methods do not report a field that is not thread-safe.
        let thread_safe = thread_safe_bounds(self.aggregate);
        quote! {
            #[automatically_derived]
            #[allow(clippy::ptr_arg)]
            impl<#store: #krate::Store> #ident for #krate::Repository<#aggregate, #store>
            #thread_safe
            {
                #(#methods)*
            }
        }
    }
}

/// The finders and unique getters, in column order.
fn lookups<'a>(aggregate: &'a Aggregate<'a>) -> Vec<Lookup<'a>> {
    aggregate
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
        .collect()
}

/// The first of `candidates` that none of `tokens` mentions, for a generic
/// parameter of generated code: a plain name a user could write, which
/// never captures a type of the user's of the same name. Numbered after
/// `candidates[0]` if all are taken.
pub(super) fn fresh_ident(candidates: &[&str], tokens: &[TokenStream]) -> Ident {
    fn mentions(tokens: &TokenStream, name: &str) -> bool {
        tokens.clone().into_iter().any(|token| match token {
            TokenTree::Ident(ident) => ident == name,
            TokenTree::Group(group) => mentions(&group.stream(), name),
            TokenTree::Punct(_) | TokenTree::Literal(_) => false,
        })
    }
    let free = |name: &str| !tokens.iter().any(|tokens| mentions(tokens, name));
    let first = candidates.first().copied().unwrap_or("T");
    let name = candidates
        .iter()
        .map(|name| (*name).to_owned())
        .chain((1..).map(|n| format!("{first}{n}")))
        .find(|name| free(name))
        .unwrap_or_else(|| first.to_owned());
    Ident::new(&name, Span::call_site())
}
