//! # uow-sqlx
//!
//! The database stores of uow: [`SqlxStore`] runs units of work on SQLite
//! through sqlx, with SQL generated once per aggregate and dialect, every
//! value bound as a parameter, and every `UPDATE`/`DELETE` version-checked.
//! The domain never sees this crate: service code is generic over
//! [`uow_core::Store`], and the application's entry point picks this store.
//!
//! The schema of a set of aggregates can be printed ([`SqlxStore::ddl`]) to
//! seed a migration, or created directly ([`SqlxStore::create_tables`]) for
//! development and tests.
#![warn(missing_docs)]

mod dialect;
mod schema;
mod sql;
mod sqlite;
mod statements;
mod store;
mod temporal;

pub use dialect::Dialect;
pub use schema::{create_table, ddl};
pub use store::{SqlxStore, SqlxTransaction};
