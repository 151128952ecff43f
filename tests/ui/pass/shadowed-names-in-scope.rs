//! A user crate whose own items shadow `uow_core`, `Result`, `Option`, `Vec`,
//! `std`, `core` and other prelude names: the generated code names none of
//! them.

#![allow(dead_code, non_camel_case_types)]

mod uow_core {}
mod std {}
mod core {}

struct Result;
struct Option;
struct Vec;
struct String;
struct Box;
struct Default;
struct Send;
struct Sync;
struct Clone;
struct Debug;
struct Future;
struct Some;
struct None;
struct Ok;
struct Err;
trait Into {}
trait Iterator {}

#[derive(
    ::uow_core::ColumnValue,
    ::std::clone::Clone,
    ::std::fmt::Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
)]
pub struct Sku(::std::string::String);

#[derive(::std::fmt::Debug, PartialEq)]
pub enum ProductEvent {
    Listed,
}

#[derive(::uow_core::Aggregate, ::std::fmt::Debug)]
#[aggregate(eq_by_id)]
pub struct Product {
    #[aggregate(id)]
    pub sku: Sku,
    #[aggregate(version)]
    pub version: u64,
    #[aggregate(find_by)]
    pub category: ::std::string::String,
    #[aggregate(unique)]
    pub ean: ::std::option::Option<::std::string::String>,
    #[aggregate(json)]
    pub tags: ::std::vec::Vec<::std::string::String>,
    #[aggregate(events)]
    pub events: ::std::vec::Vec<ProductEvent>,
}

#[::uow_core::unit_of_work]
pub struct Catalogue {
    pub products: Product,
}

#[::uow_core::unit_of_work(events = ProductEvent)]
pub struct Listing {
    pub products: Product,
}

fn main() {
    let store = ::uow_core::InMemoryStore::new();
    let _ = Catalogue::begin(&store);
    let _ = Listing::begin(&store);
}
