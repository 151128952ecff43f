//! `#[unit_of_work]`: turns a struct whose fields name aggregates into a unit
//! of work over any store — a repository per field, `begin`, `commit` and
//! rollback by default.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::ext::IdentExt;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Item, ItemStruct, Path, Token};

use super::aggregate::{respan, respan_tokens, type_ends};
use super::doc;
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
    // The expansion implements `Debug`; a derived one would conflict.
    remove_derived_debug(&mut parsed);
    if !parsed.generics.params.is_empty() || parsed.generics.where_clause.is_some() {
        return item.clone();
    }
    match UnitOfWork::from_ast(&cx, args, &parsed) {
        Some(uow) => generate(&uow),
        None => item.clone(),
    }
}

/// Removes `Debug` from the `#[derive(...)]`s of `item` (reported by
/// `valid::check_unit_of_work`), dropping a derive left empty.
fn remove_derived_debug(item: &mut ItemStruct) {
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
            .filter(|path| path.segments.last().is_none_or(|s| s.ident != "Debug"))
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

fn generate(uow: &UnitOfWork) -> TokenStream {
    let krate = &uow.krate;
    let item: &ItemStruct = uow.item;
    let attrs = &item.attrs;
    let vis = &item.vis;
    let ident = &item.ident;
    let name = ident.unraw().to_string();
    let result = quote!(#krate::__private::Result);
    let vec = quote!(#krate::__private::Vec);

    let event_ty = match &uow.events {
        Some(ty) => quote_spanned!(ty.span()=> #ty),
        None => quote!(#krate::AnyEvent),
    };

    let fields = uow.fields.iter().map(|field| {
        let attrs = &field.attrs;
        let vis = &field.vis;
        let member = &field.ident;
        let ty = &field.ty;
        // From the type's first token to its last: rustc underlines it all.
        let (first, last) = type_ends(ty);
        let krate = respan_tokens(krate, first);
        let close = quote_spanned!(last=> >);
        let repository = quote_spanned!(first=> #krate::Repository<#ty, __UowS #close);
        quote!(#(#attrs)* #vis #member: #repository)
    });
    // Per-field code is spanned at the field's type, so that a type that is
    // not an aggregate is reported there (once per body: calls are written
    // as paths, whose unmet bounds rustc reports as one error).
    let members: Vec<_> = uow.fields.iter().map(|field| &field.ident).collect();
    let metas = uow.fields.iter().map(|field| {
        let ty = &field.ty;
        let krate = respan_tokens(krate, ty.span());
        quote_spanned!(ty.span()=> <#ty as #krate::Aggregate>::META)
    });
    let repositories = uow.fields.iter().map(|field| {
        let span = field.ty.span();
        let krate = respan_tokens(krate, span);
        quote_spanned!(span=> #krate::Repository::new(__uow.transaction()))
    });
    let collect_changes = uow.fields.iter().filter_map(|field| {
        let span = field.ty.span();
        let krate = respan_tokens(krate, span);
        let member = respan(field.ident.as_ref()?, span);
        Some(quote_spanned!(span=> #krate::Repository::collect_changes(&mut self.#member)?))
    });
    let debug_fields = uow.fields.iter().filter_map(|field| {
        let span = field.ty.span();
        let member = respan(field.ident.as_ref()?, span);
        Some(quote_spanned!(span=> &self.#member))
    });
    let member_names = uow.fields.iter().map(|field| {
        field
            .ident
            .as_ref()
            .map(|ident| ident.unraw().to_string())
            .unwrap_or_default()
    });
    let drains = uow.fields.iter().filter_map(|field| {
        let ty = &field.ty;
        let member = respan(field.ident.as_ref()?, ty.span());
        let krate = &respan_tokens(krate, ty.span());
        let converter = match &uow.events {
            Some(events) => {
                let conversion = quote_spanned! {ty.span()=>
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
        Some(quote_spanned! {ty.span()=>
            #krate::Repository::drain_events(&mut self.#member, &mut __uow_events, #converter);
        })
    });

    // Every impl assumes its fields are aggregates: a field type that is not
    // one is then reported once, where it is written, by the struct's field
    // `Repository<T, S>`, and not once more by every use in the bodies. The
    // `for<'__uow>` keeps rustc from checking the assumption itself (as it
    // does a bound that names no parameter), which would be a second error.
    let bounds = uow.fields.iter().map(|field| {
        let ty = &field.ty;
        let krate = respan_tokens(krate, ty.span());
        quote_spanned!(ty.span()=> for<'__uow> #ty: #krate::Aggregate)
    });
    let where_clause = quote!(where #(#bounds,)*);

    let events_doc = match &uow.events {
        Some(events) => format!("`{}`", quote!(#events)),
        None => "`AnyEvent`".to_owned(),
    };
    let begin_doc = doc(&format!(
        "Begins a unit of work (`{name}`) on `store`: one transaction, shared by its\n\
         repositories.\n\
         \n\
         Nothing is stored until [`commit`](Self::commit) succeeds. Dropping the unit of work\n\
         instead (an early `?` return, a panic, or [`rollback`](Self::rollback)) discards\n\
         every change: rollback is the default."
    ));
    let commit_doc = doc(&format!(
        "Writes every change of this unit of work in one transaction and returns the domain\n\
         events ({events_doc}) that its aggregates recorded, repository by repository, in id\n\
         order.\n\
         \n\
         Only aggregates that changed since they were loaded are written, each with its\n\
         version checked and incremented; if another unit of work changed one meanwhile, the\n\
         commit fails with `Error::Conflict` and stores nothing. `commit` consumes the unit of\n\
         work: begin a new one to go on."
    ));
    // `(&&EventConversion..).converter()` picks the conversion by autoref.
    let commit_lints = match &uow.events {
        Some(_) => quote!(#[allow(clippy::needless_borrow)]),
        None => TokenStream::new(),
    };
    let outbox = uow.outbox.is_some();
    let commit_fn = if outbox {
        quote!(commit_with_outbox)
    } else {
        quote!(commit)
    };
    let rollback_doc =
        doc("Ends the unit of work without storing anything (the same as dropping it).");
    let events_glue = match &uow.events {
        Some(_) => events_glue(krate),
        None => TokenStream::new(),
    };

    quote! {
        #(#attrs)*
        #vis struct #ident<__UowS: #krate::Store> {
            #(#fields,)*
            __uow: #krate::__private::UnitState<__UowS>,
        }

        const _: () = {
            #events_glue

            impl<__UowS: #krate::Store> #ident<__UowS> #where_clause {
                #begin_doc
                pub async fn begin(store: &__UowS) -> #result<Self, #krate::Error> {
                    let __uow = #krate::__private::UnitState::begin(store, #name).await?;
                    #result::Ok(Self {
                        #(#members: #repositories,)*
                        __uow,
                    })
                }

                #commit_doc
                #commit_lints
                pub async fn commit(mut self) -> #result<#vec<#event_ty>, #krate::Error> {
                    let mut __uow_changes = #krate::ChangeSet::new();
                    #(__uow_changes.push(#collect_changes);)*
                    let mut __uow_events = #vec::new();
                    #(#drains)*
                    #krate::__private::#commit_fn::<__UowS, #event_ty>(
                        &mut self.__uow,
                        __uow_changes,
                        __uow_events,
                    )
                    .await
                }

                #rollback_doc
                pub fn rollback(self) {
                    ::core::mem::drop(self);
                }
            }

            #[automatically_derived]
            impl<__UowS: #krate::Store> #krate::UnitOfWork for #ident<__UowS> #where_clause {
                type Store = __UowS;
                type Event = #event_ty;

                const AGGREGATES: &'static [&'static #krate::AggregateMeta] = &[#(#metas),*];
                const OUTBOX: bool = #outbox;

                #[inline]
                fn begin(
                    store: &__UowS,
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

            #[automatically_derived]
            impl<__UowS: #krate::Store> ::core::fmt::Debug for #ident<__UowS> #where_clause {
                fn fmt(&self, __uow_f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    __uow_f
                        .debug_struct(#name)
                        #(.field(#member_names, #debug_fields))*
                        .finish_non_exhaustive()
                }
            }
        };
    }
}

/// The last resort of the conversion of an aggregate's events into the unit
/// of work's event type, picked (by autoref, after `ConvertNoEvents` and
/// `ConvertInto`) only when the events do not convert: its bound then fails
/// as "`From<ProductEvent>` is not implemented for `AllocationEvent`", at
/// the field's type, instead of naming the autoref machinery.
fn events_glue(krate: &Path) -> TokenStream {
    let unreported = super::entity::unimplemented();
    quote! {
        trait __UowConvertMissing<T, E> {
            fn converter(&self) -> fn(T) -> E
            where
                E: ::core::convert::From<T>;
        }

        impl<T, E> __UowConvertMissing<T, E> for #krate::__private::EventConversion<T, E> {
            fn converter(&self) -> fn(T) -> E
            where
                E: ::core::convert::From<T>,
            {
                #unreported
            }
        }
    }
}
