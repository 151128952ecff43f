//! The macros of uow: `#[derive(Aggregate)]`, `#[derive(Entity)]`,
//! `#[derive(ColumnValue)]` and `#[unit_of_work]`.
//!
//! Use them through `uow_core`, which re-exports them (feature `derive`, on by
//! default) next to the traits they implement; the code they generate names
//! `::uow_core` only. Each entry point here parses its input, calls
//! `expand`, and turns the errors into `compile_error!`s next to a
//! placeholder, so that a mistake shows up as one error at its place rather
//! than as a cascade.

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

mod ast;
mod attr;
mod crate_path;
mod ctxt;
mod expand;
mod symbol;
mod valid;

#[cfg(test)]
mod tests;

/// Makes a struct an aggregate root: an [`Entity`] identified by one field,
/// versioned for optimistic concurrency, stored as one row of a table, with a
/// repository trait `<Type>Repository`.
///
/// ```ignore
/// use uow_core::Aggregate;
///
/// #[derive(Aggregate, Clone, Debug)]
/// #[aggregate(table = "products")]
/// pub struct Product {
///     #[aggregate(id)]
///     pub sku: Sku,
///     #[aggregate(version)]
///     pub version: u64,
///     pub description: String,
///     #[aggregate(find_by)]
///     pub category: String,            // ProductRepository::find_by_category
///     #[aggregate(unique, column = "ean_code")]
///     pub ean: Option<String>,         // ProductRepository::get_by_ean
///     #[aggregate(json)]
///     pub batches: Vec<Batch>,         // one JSON document column
///     #[aggregate(events)]
///     pub events: Vec<ProductEvent>,   // never stored; returned by commit()
/// }
/// ```
///
/// On the struct:
///
/// | key | meaning |
/// |---|---|
/// | `table = "name"` | the table; default: the type name in snake_case (`OrderLine` → `order_line`) |
/// | `repository = "Name"` | the name of the repository trait; default: `<Type>Repository` |
/// | `eq_by_id` | also implement `PartialEq`, `Eq` and `Hash` by id |
/// | `crate = "path"` | where `uow_core` is, if not at `::uow_core` |
///
/// On fields:
///
/// | key | meaning |
/// |---|---|
/// | `id` | the identity and primary key, never an `Option`; exactly one field |
/// | `version` | the version, of a `VersionNumber` type (`u64`, `i64`, `u32`, `i32`, under any alias); exactly one field, owned by the framework |
/// | `column = "name"` | the column; default: the field name |
/// | `json` | stored as one JSON document (the type implements serde's `Serialize` and `Deserialize`) |
/// | `find_by` | an indexed column with a `find_by_<field>` finder |
/// | `unique` | a unique column with a `get_by_<field>` getter |
/// | `events` | a `Vec` of the domain events the aggregate records; never stored, drained by `commit()` |
///
/// Every other field is a column and its type implements `ColumnValue`.
/// Table and column names must be plain SQL identifiers and not reserved
/// words; all of it is checked at compile time, and every mistake of one
/// struct is reported in the same compile, at the key, field or type at fault
/// (`tests/ui/aggregate/` holds one example of each message).
///
/// `#[entity(...)]` is declared here too, only to say that it belongs to
/// `#[derive(Entity)]` when it is written on an aggregate.
///
/// [`Entity`]: derive@Entity
#[proc_macro_derive(Aggregate, attributes(aggregate, entity))]
pub fn derive_aggregate(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    output(expand::derive_aggregate(&input), || {
        expand::aggregate_placeholder(&input)
    })
}

/// Gives a child entity — one held inside an aggregate — its identity:
/// implements `uow_core::Entity` by the field marked `#[entity(id)]`.
///
/// ```ignore
/// #[derive(Entity, Clone, Debug, serde::Serialize, serde::Deserialize)]
/// #[entity(eq_by_id)]
/// pub struct Batch {
///     #[entity(id)]
///     pub reference: String,
///     pub quantity: u32,
/// }
/// ```
///
/// On the struct, `eq_by_id` also implements `PartialEq`, `Eq` and `Hash` by
/// id, and `crate = "path"` says where `uow_core` is. `#[aggregate(...)]` is
/// declared here too, only to say that it belongs to `#[derive(Aggregate)]`
/// when it is written on an entity.
#[proc_macro_derive(Entity, attributes(entity, aggregate))]
pub fn derive_entity(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    output(expand::derive_entity(&input), || {
        expand::entity_placeholder(&input)
    })
}

/// Stores a newtype value object as the one value it wraps: implements
/// `uow_core::ColumnValue` by delegating to the wrapped type.
///
/// ```ignore
/// #[derive(ColumnValue, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
/// pub struct Sku(String);
/// ```
///
/// The struct has exactly one field, named or not; a value object of several
/// fields is stored with `#[aggregate(json)]` instead. `#[column_value(crate =
/// "path")]` says where `uow_core` is.
///
/// On an enum whose variants have no fields, the column holds the name of the
/// variant as text, or the text given with `#[column_value(rename = "...")]`
/// on the variant; such a column works with `find_by` and `unique`, and a
/// stored text that names no variant is a decode error. An enum with data is
/// stored with `#[aggregate(json)]` instead.
///
/// ```ignore
/// #[derive(ColumnValue, Clone, Copy, Debug, PartialEq, Eq)]
/// pub enum PaymentStatus {
///     Pending,                                // stored as "Pending"
///     #[column_value(rename = "settled_in_full")]
///     Settled,                                // stored as "settled_in_full"
/// }
/// ```
#[proc_macro_derive(ColumnValue, attributes(column_value))]
pub fn derive_column_value(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    output(expand::derive_column_value(&input), || {
        expand::column_value_placeholder(&input)
    })
}

/// Makes a struct whose fields name aggregates a unit of work: each field
/// becomes the repository of that aggregate, and the struct gets `begin`,
/// `commit` and `rollback` and implements `uow_core::UnitOfWork`.
///
/// ```ignore
/// #[unit_of_work(events = AllocationEvent)]
/// pub struct Allocation {
///     pub products: Product,   // a Repository<Product, S>
///     pub orders: Order,
/// }
///
/// let mut uow = Allocation::begin(&store).await?;
/// let product = uow.products.get(&sku).await?;
/// // ...
/// let events: Vec<AllocationEvent> = uow.commit().await?;
/// ```
///
/// The struct becomes generic over the store — `Allocation<S>` with
/// `S: Store`, inferred from the store given to `begin` — so a function
/// takes it as `&mut Allocation<S>` and an `impl<S: Store> Allocation<S>`
/// block extends it. (`S` is named otherwise only if a field's type mentions
/// an `S`.) It implements `Debug`, showing its repositories; the other
/// attributes and doc comments are kept, and a field's `#[cfg]` applies
/// wherever the field is used. It cannot derive `Clone`, `Default`,
/// comparisons or serde traits (it is an open transaction); two fields whose
/// aggregates share a table are refused. Nothing is stored until `commit()`;
/// dropping the unit of work rolls back.
///
/// Arguments: `events = Type`, the event type `commit()` returns, each
/// aggregate's events converted with `Into` (default: `uow_core::AnyEvent`);
/// `crate = "path"`, where `uow_core` is.
///
/// Where `uow_core` is: the generated code of every macro names the crate
/// under which the user's `Cargo.toml` depends on `uow-core` (a renamed
/// dependency, `uow = { package = "uow-core" }`, works as it is); a crate that
/// reaches `uow_core` through another crate's re-export says where with
/// `crate = "path"`.
#[proc_macro_attribute]
pub fn unit_of_work(args: TokenStream, item: TokenStream) -> TokenStream {
    let (args, item) = (args.into(), item.into());
    output(expand::unit_of_work(&args, &item), || {
        expand::unit_of_work_placeholder(&args, &item)
    })
}

/// The expansion, or the errors followed by a placeholder.
fn output(
    result: syn::Result<proc_macro2::TokenStream>,
    placeholder: impl FnOnce() -> proc_macro2::TokenStream,
) -> TokenStream {
    match result {
        Ok(tokens) => tokens.into(),
        Err(error) => {
            let mut tokens = error.to_compile_error();
            tokens.extend(placeholder());
            tokens.into()
        }
    }
}
