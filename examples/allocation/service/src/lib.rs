//! The allocation service layer: each use case is one function that opens a
//! unit of work, calls the domain, and commits. Every function is generic
//! over the store, so the tests run it on the in-memory store and on SQLite,
//! and the application runs it on whatever database it was given.

mod services;
mod unit_of_work;

pub use services::{
    AllocateError, ServiceError, add_batch, allocate, change_batch_quantity, deallocate, product_of,
};
pub use unit_of_work::Allocation;
