//! MySQL 8 and MariaDB 10.6+, everything uow does differently on them: their
//! SQL text ([`MySqlSql`], `sql.rs`, compiled whatever the features) and,
//! behind the `mysql` feature, their driver (`driver.rs`: DATETIME(6) in
//! UTC, BINARY(16) UUIDs, decimals as their sort key, sessions set up with
//! the isolation level and timeouts, error numbers, the columns of a
//! duplicate key, introspection through `information_schema`).

#[cfg(feature = "mysql")]
mod driver;
mod sql;

#[cfg(feature = "mysql")]
pub(crate) use driver::MySqlDriver;
pub(crate) use sql::MySqlSql;
