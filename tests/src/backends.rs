//! The stores the contract suite runs against: `uow-testing`'s backends,
//! with the bank's tables as the default set.

use std::future::Future;

pub use uow_testing::{InMemory, MySql, Postgres, Sqlite, isolated, required};

use crate::bank::TABLES;

/// A `uow_testing` backend that also makes a store with the bank's tables.
pub trait Backend: uow_testing::Backend {
    /// A fresh store with the bank's tables.
    fn fresh() -> impl Future<Output = Option<Self::Store>> {
        Self::fresh_with(TABLES)
    }
}

impl<B: uow_testing::Backend> Backend for B {}
