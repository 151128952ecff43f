//! The allocation domain: a `Product` aggregate holds the `Batch`es of one
//! SKU and allocates `OrderLine`s to them, preferring warehouse stock to
//! shipments and earlier shipments to later ones.
//!
//! The crate knows nothing of storage: its only framework dependency is
//! `uow-core`, whose derives turn `Product` into an aggregate (identity,
//! version, repository port) without any database type on it.

mod events;
mod model;

pub use events::Event;
pub use model::{
    Batch, BatchFinders, BatchRef, OrderId, OrderLine, OrderLineFinders, OutOfStock, Product, Sku,
};
