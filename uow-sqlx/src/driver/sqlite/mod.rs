//! SQLite, everything uow does differently on it: its SQL text
//! ([`SqliteSql`], `sql.rs`, compiled whatever the features) and, behind the
//! `sqlite` feature, its driver (`driver.rs`: values as INTEGER, REAL, TEXT
//! and BLOB in `STRICT` tables, dates and times in fixed text formats
//! (`temporal.rs`), reads in autocommit mode and commits in `BEGIN
//! IMMEDIATE`, the outbox relay lease, introspection through its pragmas).

#[cfg(feature = "sqlite")]
mod driver;
mod sql;
#[cfg(feature = "sqlite")]
mod temporal;

#[cfg(feature = "sqlite")]
pub(crate) use driver::SqliteDriver;
pub(crate) use sql::SqliteSql;
