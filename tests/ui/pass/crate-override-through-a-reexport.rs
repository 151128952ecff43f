//! `crate = "..."` pointing at a re-export of uow_core (here the one of the
//! `uow_tests` crate), while `::uow_core` names another crate altogether: the
//! generated code uses only the given path.

#![allow(dead_code)]

extern crate uow_sqlx as uow_core;

use serde::{Deserialize, Serialize};
use uow_tests::uow_core::{Aggregate, ColumnValue, Entity, InMemoryStore, unit_of_work};

#[derive(ColumnValue, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[column_value(crate = "uow_tests::uow_core")]
pub struct Sku(String);

#[derive(Entity, Clone, Debug, Serialize, Deserialize)]
#[entity(crate = "::uow_tests::uow_core", eq_by_id)]
pub struct Batch {
    #[entity(id)]
    pub reference: String,
}

#[derive(Debug)]
pub enum ProductEvent {
    Listed,
}

#[derive(Aggregate, Debug)]
#[aggregate(crate = "::uow_tests::uow_core", eq_by_id)]
pub struct Product {
    #[aggregate(id)]
    pub sku: Sku,
    #[aggregate(version)]
    pub version: u64,
    #[aggregate(find_by)]
    pub category: String,
    #[aggregate(json)]
    pub batches: Vec<Batch>,
    #[aggregate(events)]
    pub events: Vec<ProductEvent>,
}

#[unit_of_work(crate = "::uow_tests::uow_core")]
pub struct Catalogue {
    pub products: Product,
}

fn main() {
    let store = InMemoryStore::new();
    let _ = Catalogue::begin(&store);
}
