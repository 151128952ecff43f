//! PostgreSQL, everything uow does differently on it: its SQL text
//! ([`PostgresSql`], `sql.rs`, compiled whatever the features) and, behind
//! the `postgres` feature, its driver (`driver.rs`: native types for every
//! kind, array batches, `BEGIN ISOLATION LEVEL` with `SET LOCAL` timeouts,
//! error codes, stale cached plans, introspection through its catalogs).

#[cfg(feature = "postgres")]
mod driver;
mod sql;

#[cfg(feature = "postgres")]
pub(crate) use driver::PostgresDriver;
pub(crate) use sql::PostgresSql;
