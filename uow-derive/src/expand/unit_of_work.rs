//! `#[unit_of_work]`: turns a struct whose fields name aggregates into a unit
//! of work over any store — a repository per field, `begin`, `commit` and
//! rollback by default.
//!
//! The struct gains one type parameter, the store, named `S` (or another
//! plain name if a field's type mentions an `S`), and one private field,
//! the unit's state. Every piece of code that uses a field carries the
//! field's `#[cfg]`s, and is spanned at the field's type so that a type that
//! is not an aggregate is reported there, once.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Attribute, Ident, Item, ItemStruct, Meta, Path, Token};

use super::aggregate::fresh_ident;
use super::spans::{respan, respan_tokens, type_ends};
use super::{doc, unimplemented};
use crate::ast::UnitOfWork;
use crate::attr;
use crate::ctxt::Ctxt;
use crate::valid;

pub fn expand(args: &TokenStream, item: &TokenStream) -> syn::Result<TokenStream> {
    let cx = Ctxt::new();
    let args = attr::unit_of_work_args(&cx, args.clone());
    let item: Item = syn::parse2(item.clone())?;
    let Item::Struct(item) = &item else {
        not_a_struct(&cx, &item);
        cx.check()?;
        return Ok(TokenStream::new());
    };
    let uow = UnitOfWork::from_ast(&cx, args, item);
    if let Some(uow) = &uow {
        valid::check_unit_of_work(&cx, uow);
    }
    cx.check()?;
    Ok(uow.map_or_else(TokenStream::new, |uow| generate(&uow)))
}

/// After errors: the expansion when the struct's shape allows it, so that
/// code using the unit of work still type-checks; otherwise the item as the
/// user wrote it.
pub fn placeholder(args: &TokenStream, item: &TokenStream) -> TokenStream {
    let cx = Ctxt::new();
    let args = attr::unit_of_work_args(&cx, args.clone());
    let Ok(Item::Struct(mut parsed)) = syn::parse2::<Item>(item.clone()) else {
        return item.clone();
    };
    // Derives the unit of work cannot have were reported; kept, each would
    // be one more error.
    remove_refused_derives(&mut parsed);
    if !parsed.generics.params.is_empty() || parsed.generics.where_clause.is_some() {
        return parsed.into_token_stream();
    }
    match UnitOfWork::from_ast(&cx, args, &parsed) {
        Some(uow)
            if uow.krate_found
                && !uow
                    .fields
                    .iter()
                    .any(|f| valid::repository_field(f).is_some()) =>
        {
            generate(&uow)
        }
        _ => parsed.into_token_stream(),
    }
}

/// Removes the derives `valid::check_unit_of_work` refuses from the
/// `#[derive(...)]`s of `item`, dropping a derive left empty.
fn remove_refused_derives(item: &mut ItemStruct) {
    item.attrs.retain_mut(|attr| {
        if !attr.path().is_ident("derive") {
            return true;
        }
        let Ok(paths) = attr.parse_args_with(Punctuated::<Path, Token![,]>::parse_terminated)
        else {
            return true;
        };
        let kept: Vec<&Path> = paths
            .iter()
            .filter(|path| valid::refused_derive(path).is_none())
            .collect();
        if kept.len() == paths.len() {
            return true;
        }
        if kept.is_empty() {
            return false;
        }
        *attr = syn::parse_quote!(#[derive(#(#kept),*)]);
        true
    });
}

fn not_a_struct(cx: &Ctxt, item: &Item) {
    let (head, what) = match item {
        Item::Enum(item) => {
            let (keyword, ident) = (item.enum_token, &item.ident);
            (quote!(#keyword #ident), "an enum")
        }
        Item::Union(item) => {
            let (keyword, ident) = (item.union_token, &item.ident);
            (quote!(#keyword #ident), "a union")
        }
        Item::Fn(item) => {
            let (keyword, ident) = (item.sig.fn_token, &item.sig.ident);
            (quote!(#keyword #ident), "a function")
        }
        _ => {
            cx.error_at(
                Span::call_site(),
                "`#[unit_of_work]` goes on a struct whose fields name aggregates, such as `struct Allocation { pub products: Product }`",
            );
            return;
        }
    };
    cx.error_spanned_by(
        head,
        format!(
            "`#[unit_of_work]` goes on a struct whose fields name aggregates, not on {what}: `struct Allocation {{ pub products: Product }}`"
        ),
    );
}

/// One repository field, with what the generated code needs of it.
struct RepositoryField<'a> {
    field: &'a syn::Field,
    member: &'a Ident,
    /// Its `#[cfg]`s, repeated on every use of the field.
    cfg: TokenStream,
    /// Whether it has any (its bound then cannot be assumed).
    conditional: bool,
}

impl RepositoryField<'_> {
    fn span(&self) -> Span {
        self.field.ty.span()
    }

    /// The field name as written in the source, without `r#`.
    fn name(&self) -> String {
        self.member.unraw().to_string()
    }
}

/// The expansion of one unit of work.
struct Generator<'a> {
    uow: &'a UnitOfWork<'a>,
    fields: Vec<RepositoryField<'a>>,
    /// The store parameter: `S` unless a field's type mentions an `S`.
    store: Ident,
    /// The private field holding the unit's state.
    state: Ident,
}

fn generate(uow: &UnitOfWork) -> TokenStream {
    let generator = Generator::new(uow);
    let item = generator.item();
    let events_glue = match &uow.events {
        Some(_) => events_glue(&uow.krate),
        None => TokenStream::new(),
    };
    let inherent = generator.inherent_impl();
    let trait_impl = generator.unit_of_work_impl();
    let debug = generator.debug_impl();
    let events_check = generator.events_are_sent();
    let krate_use = &uow.krate_use;
    quote! {
        #krate_use
        #item

        const _: () = {
            #events_glue
            #inherent
            #trait_impl
            #debug
            #events_check
        };
    }
}

impl<'a> Generator<'a> {
    fn new(uow: &'a UnitOfWork<'a>) -> Self {
        let fields: Vec<RepositoryField> = uow
            .fields
            .iter()
            .filter_map(|field| {
                let cfg = cfg_attrs(&field.attrs);
                Some(RepositoryField {
                    field,
                    member: field.ident.as_ref()?,
                    conditional: !cfg.is_empty(),
                    cfg,
                })
            })
            .collect();
        let mut mentioned: Vec<TokenStream> = uow
            .fields
            .iter()
            .map(|field| field.ty.to_token_stream())
            .collect();
        mentioned.extend(uow.events.as_ref().map(ToTokens::to_token_stream));
        let store = fresh_ident(&["S", "St", "Store"], &mentioned);
        let members: Vec<TokenStream> = fields
            .iter()
            .map(|field| field.member.to_token_stream())
            .collect();
        let state = fresh_ident(&["unit_state"], &members);
        Generator {
            uow,
            fields,
            store,
            state,
        }
    }

    fn krate(&self) -> &Path {
        &self.uow.krate
    }

    fn name(&self) -> String {
        self.uow.item.ident.unraw().to_string()
    }

    fn event_type(&self) -> TokenStream {
        let krate = self.krate();
        match &self.uow.events {
            Some(ty) => quote_spanned!(ty.span()=> #ty),
            None => quote!(#krate::AnyEvent),
        }
    }

    /// The struct: each field a `Repository<Aggregate, S>`, spanned from the
    /// type's first token to its last so that rustc underlines it all.
    fn item(&self) -> TokenStream {
        let krate = self.krate();
        let item = self.uow.item;
        let (attrs, vis, ident) = (&item.attrs, &item.vis, &item.ident);
        let (store, state) = (&self.store, &self.state);
        let fields = self.uow.fields.iter().map(|field| {
            let (attrs, vis, member, ty) = (&field.attrs, &field.vis, &field.ident, &field.ty);
            let (first, last) = type_ends(ty);
            let krate = respan_tokens(krate, first);
            let close = quote_spanned!(last=> >);
            let repository = quote_spanned!(first=> #krate::Repository<#ty, #store #close);
            quote!(#(#attrs)* #vis #member: #repository)
        });
        quote! {
            #(#attrs)*
            #vis struct #ident<#store: #krate::Store> {
                #(#fields,)*
                #state: #krate::__private::UnitState<#store>,
            }
        }
    }

    /// Every impl assumes its fields are aggregates: a field type that is
    /// not one is then reported once, where it is written, by the struct's
    /// field `Repository<T, S>`, and not once more by every use in the
    /// bodies. The binder keeps rustc from checking the assumption itself
    /// (as it does a bound that names no parameter), which would be a second
    /// error; its lifetime is used (`+ 'x`, which every aggregate meets), so
    /// that `unused_lifetimes` has nothing to say.
    fn where_clause(&self) -> TokenStream {
        let krate = self.krate();
        let bounds = self
            .fields
            .iter()
            .filter(|field| !field.conditional)
            .map(|field| {
                let ty = &field.field.ty;
                let krate = respan_tokens(krate, ty.span());
                quote_spanned!(ty.span()=> for<'x> #ty: #krate::Aggregate + 'x)
            });
        quote!(where #(#bounds,)*)
    }

    /// The check that the event type can be sent between threads (units of
    /// work are): one error at the type given to `events = ...`.
    fn events_are_sent(&self) -> TokenStream {
        let Some(events) = &self.uow.events else {
            return TokenStream::new();
        };
        let check = quote_spanned!(events.span()=> sent_between_threads::<#events>(););
        quote! {
            #[allow(dead_code)]
            fn events_are_sent_between_threads() {
                fn sent_between_threads<T: ?::core::marker::Sized + ::core::marker::Send>() {}
                #check
            }
        }
    }

    fn inherent_impl(&self) -> TokenStream {
        let krate = self.krate();
        let item = self.uow.item;
        let (vis, ident) = (&item.vis, &item.ident);
        let (store, state) = (&self.store, &self.state);
        let name = self.name();
        let result = quote!(#krate::__private::Result);
        let vec = quote!(#krate::__private::Vec);
        let event_ty = self.event_type();
        let where_clause = self.where_clause();

        let repositories = self.fields.iter().map(|field| {
            let (cfg, member, span) = (&field.cfg, field.member, field.span());
            let krate = respan_tokens(krate, span);
            quote_spanned!(span=> #cfg #member: #krate::__private::UnitState::repository(&#state))
        }).collect::<Vec<_>>();
        let collect_changes = self.fields.iter().map(|field| {
            let (cfg, span) = (&field.cfg, field.span());
            let krate = respan_tokens(krate, span);
            let member = respan(field.member, span);
            quote_spanned!(span=> #cfg changes.push(#krate::Repository::collect_changes(&mut self.#member)?);)
        });
        let drains = self.fields.iter().map(|field| self.drain(field));
        let distinct_tables = self.distinct_tables();

        let (begin_doc, commit_doc) = (self.begin_doc(), self.commit_doc());
        let rollback_doc =
            doc("Ends the unit of work without storing anything (the same as dropping it).");
        let unit_id_doc = doc(
            "The id of this unit of work, made at `begin` and written with its commit.\n\
             \n\
             Take it before `commit` to ask `Store::commit_outcome` whether a commit whose\n\
             outcome you did not see (your own timeout dropped it, or it failed with\n\
             `Error::CommitOutcomeUnknown`) was stored.",
        );
        let transaction_doc = doc(&format!(
            "The store's transaction of this unit of work (`{store}::Tx`), for statements of your\n\
             own that must commit or roll back with it: what it offers is the store's (a SQL store\n\
             runs your SQL in the unit's transaction, or in its commit's). Such statements leave\n\
             the in-memory store behind: keep the service generic over `Store` with a port trait\n\
             that has an in-memory implementation and a SQL one."
        ));
        // `(&&EventConversion..).converter()` picks the conversion by autoref.
        let commit_lints = match &self.uow.events {
            Some(_) => quote!(#[allow(clippy::needless_borrow)]),
            None => TokenStream::new(),
        };
        let commit_fn = if self.uow.outbox.is_some() {
            quote!(commit_with_outbox)
        } else {
            quote!(commit)
        };

        quote! {
            impl<#store: #krate::Store> #ident<#store> #where_clause {
                #begin_doc
                #vis async fn begin(store: &#store) -> #result<Self, #krate::Error> {
                    #distinct_tables
                    let #state = #krate::__private::UnitState::begin(store, #name).await?;
                    #result::Ok(Self {
                        #(#repositories,)*
                        #state,
                    })
                }

                /// Begins a read-only unit of work on `store`: its repositories read
                /// as `begin`'s do (the same identity map), the database opens no
                /// read-write transaction for it, and `commit` fails with
                /// `Error::ReadOnly` if it changed anything (otherwise it just
                /// ends it). For listings and reports.
                #vis async fn begin_read_only(store: &#store) -> #result<Self, #krate::Error> {
                    #distinct_tables
                    let #state = #krate::__private::UnitState::begin_read_only(store, #name).await?;
                    #result::Ok(Self {
                        #(#repositories,)*
                        #state,
                    })
                }

                #commit_doc
                #commit_lints
                #vis async fn commit(mut self) -> #result<#vec<#event_ty>, #krate::Error> {
                    let mut changes = #krate::backend::ChangeSet::new();
                    #(#collect_changes)*
                    let mut events = #vec::new();
                    #(#drains)*
                    #krate::__private::#commit_fn::<#store, #event_ty>(
                        &mut self.#state,
                        changes,
                        events,
                    )
                    .await
                }

                #unit_id_doc
                #vis fn unit_id(&self) -> &#krate::UnitId {
                    #krate::__private::UnitState::unit_id(&self.#state)
                }

                #transaction_doc
                #vis fn transaction(&self) -> &<#store as #krate::Store>::Tx {
                    #krate::__private::UnitState::store_transaction(&self.#state)
                }

                #rollback_doc
                #vis fn rollback(self) {
                    ::core::mem::drop(self);
                }
            }
        }
    }

    /// The doc comment of `begin`.
    fn begin_doc(&self) -> TokenStream {
        let name = self.name();
        let store = &self.store;
        doc(&format!(
            "Begins a unit of work (`{name}`) on `store`: one transaction, shared by its\n\
             repositories. `{store}` is the store's type, inferred from `store`.\n\
             \n\
             Nothing is stored until [`commit`](Self::commit) succeeds. Dropping the unit of work\n\
             instead (an early `?` return, a panic, or [`rollback`](Self::rollback)) discards\n\
             every change: rollback is the default.\n\
             \n\
             # Errors\n\
             \n\
             The store's error if it cannot begin a transaction."
        ))
    }

    /// The doc comment of `commit`.
    fn commit_doc(&self) -> TokenStream {
        let events_doc = match &self.uow.events {
            Some(events) => format!("`{}`", quote!(#events)),
            None => "`AnyEvent`".to_owned(),
        };
        doc(&format!(
            "Writes every change of this unit of work in one transaction and returns the domain\n\
             events ({events_doc}) that its aggregates recorded, repository by repository, in id\n\
             order.\n\
             \n\
             Only aggregates that changed since they were loaded are written, each with its\n\
             version checked and incremented. `commit` consumes the unit of work: begin a new one\n\
             to go on.\n\
             \n\
             # Errors\n\
             \n\
             `Error::Conflict` if another unit of work changed one of the aggregates meanwhile,\n\
             `Error::Duplicate` for a taken id or unique value, the store's errors; after an\n\
             error nothing is stored."
        ))
    }

    /// Moves one repository's events into `events`, converted to the unit of
    /// work's event type.
    fn drain(&self, field: &RepositoryField) -> TokenStream {
        let krate = self.krate();
        let ty = &field.field.ty;
        let span = field.span();
        let member = respan(field.member, span);
        let krate = &respan_tokens(krate, span);
        let converter = match &self.uow.events {
            Some(events) => {
                let conversion = quote_spanned! {span=>
                    (&&#krate::__private::EventConversion::<
                        <#ty as #krate::Aggregate>::Event,
                        #events,
                    >::new())
                        .converter()
                };
                // One of the traits is picked, so the others are unused.
                quote! {
                    {
                        #[allow(unused_imports)]
                        use #krate::__private::{ConvertInto as _, ConvertNoEvents as _};
                        #conversion
                    }
                }
            }
            None => quote!(#krate::AnyEvent::new),
        };
        let cfg = &field.cfg;
        quote_spanned! {span=>
            #cfg #krate::Repository::drain_events(&mut self.#member, &mut events, #converter);
        }
    }

    fn unit_of_work_impl(&self) -> TokenStream {
        let krate = self.krate();
        let ident = &self.uow.item.ident;
        let store = &self.store;
        let result = quote!(#krate::__private::Result);
        let vec = quote!(#krate::__private::Vec);
        let event_ty = self.event_type();
        let where_clause = self.where_clause();
        // `UnitOfWork` needs the event type to be `Send` (for the futures of
        // `commit`): assumed here and checked once, at the type, by
        // `events_are_sent`, instead of once per requirement.
        let events_sent = self.uow.events.as_ref().map(
            |events| quote_spanned!(events.span()=> for<'x> #events: ::core::marker::Send + 'x,),
        );
        let outbox = self.uow.outbox.is_some();
        let metas = self.fields.iter().map(|field| {
            let (cfg, ty) = (&field.cfg, &field.field.ty);
            let krate = respan_tokens(krate, ty.span());
            quote_spanned!(ty.span()=> #cfg <#ty as #krate::Aggregate>::META)
        });
        quote! {
            #[automatically_derived]
            impl<#store: #krate::Store> #krate::UnitOfWork for #ident<#store> #where_clause #events_sent {
                type Store = #store;
                type Event = #event_ty;

                const AGGREGATES: &'static [&'static #krate::backend::AggregateMeta] = &[#(#metas),*];
                const OUTBOX: bool = #outbox;

                #[inline]
                fn begin(
                    store: &#store,
                ) -> impl #krate::__private::Future<Output = #result<Self, #krate::Error>>
                       + #krate::__private::Send {
                    Self::begin(store)
                }

                #[inline]
                fn commit(
                    self,
                ) -> impl #krate::__private::Future<Output = #result<#vec<#event_ty>, #krate::Error>>
                       + #krate::__private::Send {
                    Self::commit(self)
                }
            }
        }
    }

    /// `Debug`, showing the repositories.
    fn debug_impl(&self) -> TokenStream {
        let krate = self.krate();
        let ident = &self.uow.item.ident;
        let store = &self.store;
        let name = self.name();
        let where_clause = self.where_clause();
        let fields = self.fields.iter().map(|field| {
            let (cfg, span) = (&field.cfg, field.span());
            let member = respan(field.member, span);
            let member_name = field.name();
            quote_spanned!(span=> #cfg debug.field(#member_name, &self.#member);)
        });
        quote! {
            #[automatically_derived]
            impl<#store: #krate::Store> ::core::fmt::Debug for #ident<#store> #where_clause {
                fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    let mut debug = f.debug_struct(#name);
                    #(#fields)*
                    debug.finish_non_exhaustive()
                }
            }
        }
    }

    /// The check that no two repositories store their aggregates in one
    /// table, whatever their types are called (an alias, another path, two
    /// types on one table): a constant block in `begin`, whose failure names
    /// both fields. It is evaluated where `begin` is instantiated (by
    /// `cargo build` and `cargo test`, not `cargo check`): only there are
    /// the fields known to be aggregates (see `where_clause`), so that a
    /// field type that is not one is not reported again by this check.
    fn distinct_tables(&self) -> TokenStream {
        let krate = self.krate();
        let name = self.name();
        let mut checks = Vec::new();
        for (index, first) in self.fields.iter().enumerate() {
            for second in &self.fields[index + 1..] {
                let (a, b) = (&first.field.ty, &second.field.ty);
                let message = format!(
                    "`{}` and `{}` of `{name}` store their aggregates in the same table: a unit of work holds one repository per table; remove `{}` and use `{}`",
                    first.name(),
                    second.name(),
                    second.name(),
                    first.name(),
                );
                let span = b.span();
                let (cfg_a, cfg_b) = (&first.cfg, &second.cfg);
                checks.push(quote_spanned! {span=>
                    #cfg_a #cfg_b
                    ::core::assert!(
                        !#krate::__private::same_table(
                            <#a as #krate::Aggregate>::META.table,
                            <#b as #krate::Aggregate>::META.table,
                        ),
                        #message,
                    );
                });
            }
        }
        if checks.is_empty() {
            return TokenStream::new();
        }
        quote! {
            const {
                #(#checks)*
            }
        }
    }
}

/// The `#[cfg(...)]`s of a field, and the `cfg` parts of its
/// `#[cfg_attr(...)]`s, to repeat on each use of the field.
fn cfg_attrs(attrs: &[Attribute]) -> TokenStream {
    let mut out = TokenStream::new();
    for attr in attrs {
        if attr.path().is_ident("cfg") {
            attr.to_tokens(&mut out);
        } else if attr.path().is_ident("cfg_attr")
            && let Meta::List(list) = &attr.meta
            && let Ok(parts) = list.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
        {
            let mut parts = parts.into_iter();
            let Some(predicate) = parts.next() else {
                continue;
            };
            let cfgs: Vec<Meta> = parts.filter(|meta| meta.path().is_ident("cfg")).collect();
            if !cfgs.is_empty() {
                out.extend(quote!(#[cfg_attr(#predicate, #(#cfgs),*)]));
            }
        }
    }
    out
}

/// The last resort of the conversion of an aggregate's events into the unit
/// of work's event type, picked (by autoref, after `ConvertNoEvents` and
/// `ConvertInto`) only when the events do not convert: its bound then fails
/// as "`From<ProductEvent>` is not implemented for `AllocationEvent`", at
/// the field's type, instead of naming the autoref machinery.
fn events_glue(krate: &Path) -> TokenStream {
    let unreported = unimplemented();
    quote! {
        trait ConvertMissing<T, E> {
            fn converter(&self) -> fn(T) -> E
            where
                E: ::core::convert::From<T>;
        }

        impl<T, E> ConvertMissing<T, E> for #krate::__private::EventConversion<T, E> {
            fn converter(&self) -> fn(T) -> E
            where
                E: ::core::convert::From<T>,
            {
                #unreported
            }
        }
    }
}
