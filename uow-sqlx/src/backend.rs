//! The one place where a database is picked at run time. [`Backend`] holds
//! one value of a database's own type — its pool ([`Pool`]), a unit of
//! work's session, an outbox claim — in a variant per database compiled in
//! (cargo features `sqlite`, `postgres`, `mysql`); [`with_backend!`] runs
//! code generic over [`Driver`] on whichever database a value is of, and
//! [`with_dialect!`] code generic over [`SqlDialect`] for a [`Dialect`].
//! Everything else is either generic or lives in the database's own module
//! (`driver/<database>/`).

#[cfg(not(any(feature = "sqlite", feature = "postgres", feature = "mysql")))]
compile_error!("uow-sqlx needs at least one of its features `sqlite`, `postgres`, `mysql`");

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use uow_core::backend::ColumnKind;

use crate::dialect::{Dialect, SqlDialect};
#[cfg(feature = "mysql")]
use crate::driver::mysql::MySqlDriver;
#[cfg(feature = "postgres")]
use crate::driver::postgres::PostgresDriver;
#[cfg(feature = "sqlite")]
use crate::driver::sqlite::SqliteDriver;
use crate::driver::{Driver, StalePlans};
use crate::options::StoreOptions;

/// A family of types with one member per database: `Of<D>` is the
/// member of driver `D` (its pool, its session...).
pub(crate) trait PerDriver {
    /// The member of driver `D`.
    type Of<D: Driver>: Send;
}

/// A value of the family `F` on one of the databases compiled in.
pub(crate) enum Backend<F: PerDriver> {
    /// SQLite.
    #[cfg(feature = "sqlite")]
    Sqlite(F::Of<SqliteDriver>),
    /// PostgreSQL.
    #[cfg(feature = "postgres")]
    Postgres(F::Of<PostgresDriver>),
    /// MySQL/MariaDB.
    #[cfg(feature = "mysql")]
    MySql(F::Of<MySqlDriver>),
}

/// Runs `$body` with `$value` (a `Backend`, by value or reference) bound to
/// `$x`, the value of its database, and `$D` naming that database's driver.
macro_rules! with_backend {
    ($value:expr, |$x:pat_param, $D:ident| $body:expr) => {
        match $value {
            #[cfg(feature = "sqlite")]
            $crate::backend::Backend::Sqlite($x) => {
                #[allow(dead_code)]
                type $D = $crate::driver::sqlite::SqliteDriver;
                $body
            }
            #[cfg(feature = "postgres")]
            $crate::backend::Backend::Postgres($x) => {
                #[allow(dead_code)]
                type $D = $crate::driver::postgres::PostgresDriver;
                $body
            }
            #[cfg(feature = "mysql")]
            $crate::backend::Backend::MySql($x) => {
                #[allow(dead_code)]
                type $D = $crate::driver::mysql::MySqlDriver;
                $body
            }
        }
    };
}
pub(crate) use with_backend;

/// Runs `$body` with `$S` naming the [`SqlDialect`] of `$dialect` (every
/// database's SQL text is compiled whatever the features).
macro_rules! with_dialect {
    ($dialect:expr, |$S:ident| $body:expr) => {
        match $dialect {
            $crate::dialect::Dialect::Sqlite => {
                type $S = $crate::driver::sqlite::SqliteSql;
                $body
            }
            $crate::dialect::Dialect::Postgres => {
                type $S = $crate::driver::postgres::PostgresSql;
                $body
            }
            $crate::dialect::Dialect::MySql => {
                type $S = $crate::driver::mysql::MySqlSql;
                $body
            }
        }
    };
}

/// Where a driver's values go in a [`Backend`]: its own variant.
pub(crate) trait Dispatch: Driver {
    /// `value` in this database's variant.
    fn wrap<F: PerDriver>(value: F::Of<Self>) -> Backend<F>;

    /// The value of this database, if `backend` is of it.
    fn of<F: PerDriver>(backend: &Backend<F>) -> Option<&F::Of<Self>>;

    /// The value of this database, if `backend` is of it.
    fn of_mut<F: PerDriver>(backend: &mut Backend<F>) -> Option<&mut F::Of<Self>>;
}

macro_rules! dispatch {
    ($feature:literal, $driver:ty, $variant:ident) => {
        #[cfg(feature = $feature)]
        impl Dispatch for $driver {
            fn wrap<F: PerDriver>(value: F::Of<Self>) -> Backend<F> {
                Backend::$variant(value)
            }

            fn of<F: PerDriver>(backend: &Backend<F>) -> Option<&F::Of<Self>> {
                #[allow(unreachable_patterns)]
                match backend {
                    Backend::$variant(value) => Some(value),
                    _ => None,
                }
            }

            fn of_mut<F: PerDriver>(backend: &mut Backend<F>) -> Option<&mut F::Of<Self>> {
                #[allow(unreachable_patterns)]
                match backend {
                    Backend::$variant(value) => Some(value),
                    _ => None,
                }
            }
        }
    };
}
dispatch!("sqlite", SqliteDriver, Sqlite);
dispatch!("postgres", PostgresDriver, Postgres);
dispatch!("mysql", MySqlDriver, MySql);

impl<F: PerDriver> fmt::Debug for Backend<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = with_backend!(self, |_value, D| <<D as Driver>::Sql as SqlDialect>::NAME);
        f.debug_tuple("Backend").field(&name).finish()
    }
}

/// The pools: `sqlx::Pool` of each database.
#[derive(Debug)]
pub(crate) struct Pools;

impl PerDriver for Pools {
    type Of<D: Driver> = sqlx::Pool<D::Db>;
}

/// A connection pool of one of the databases compiled in.
pub(crate) type Pool = Backend<Pools>;

impl Clone for Pool {
    fn clone(&self) -> Self {
        with_backend!(self, |pool, D| D::wrap::<Pools>(pool.clone()))
    }
}

impl Pool {
    /// Opens the pool of the database `url` names, with `options`.
    pub(crate) async fn connect(
        url: &str,
        options: &StoreOptions,
        stale_plans: Arc<StalePlans>,
    ) -> Result<Pool, ConnectError> {
        let scheme = url.split(':').next().unwrap_or_default();
        #[cfg(feature = "sqlite")]
        if SqliteDriver::SCHEMES.contains(&scheme) {
            let pool = SqliteDriver::connect(url, options, stale_plans).await;
            return pool.map(Backend::Sqlite).map_err(ConnectError::Driver);
        }
        #[cfg(feature = "postgres")]
        if PostgresDriver::SCHEMES.contains(&scheme) {
            let pool = PostgresDriver::connect(url, options, stale_plans).await;
            return pool.map(Backend::Postgres).map_err(ConnectError::Driver);
        }
        #[cfg(feature = "mysql")]
        if MySqlDriver::SCHEMES.contains(&scheme) {
            let pool = MySqlDriver::connect(url, options, stale_plans).await;
            return pool.map(Backend::MySql).map_err(ConnectError::Driver);
        }
        let _ = (options, stale_plans);
        Err(ConnectError::Scheme(format!(
            "unsupported URL scheme `{scheme}:`; this build of uow-sqlx takes {}",
            schemes()
        )))
    }

    /// The pool's SQL dialect.
    pub(crate) fn dialect(&self) -> Dialect {
        with_backend!(self, |_pool, D| <<D as Driver>::Sql as SqlDialect>::DIALECT)
    }
}

/// Why a pool could not be opened.
#[derive(Debug)]
pub(crate) enum ConnectError {
    /// The URL's scheme names no database compiled in.
    Scheme(String),
    /// The driver failed.
    Driver(sqlx::Error),
}

/// The URL schemes this build connects to (its features).
fn schemes() -> String {
    let mut schemes: Vec<&str> = Vec::new();
    #[cfg(feature = "sqlite")]
    schemes.extend(SqliteDriver::SCHEMES);
    #[cfg(feature = "postgres")]
    schemes.extend(PostgresDriver::SCHEMES);
    #[cfg(feature = "mysql")]
    schemes.extend(MySqlDriver::SCHEMES);
    schemes
        .iter()
        .map(|s| format!("{s}:"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Dialect {
    /// The dialect's name as used in messages and test names.
    pub fn name(self) -> &'static str {
        with_dialect!(self, |S| S::NAME)
    }

    /// Quotes an identifier, doubling the quote character inside it (names
    /// of aggregates are validated as SQL identifiers by the derive; quoting
    /// keeps names that happen to be keywords in one dialect working, and
    /// any other name one identifier).
    ///
    /// SQLite takes a double-quoted name that matches no column for a string
    /// literal, so a column missing from a table would read as its own name;
    /// a name in backquotes is always an identifier, and a missing column an
    /// error that names it.
    pub fn quote(self, ident: &str) -> String {
        with_dialect!(self, |S| S::quote(ident))
    }

    /// The bind-parameter placeholder for the `n`-th parameter (1-based).
    pub fn placeholder(self, n: usize) -> String {
        with_dialect!(self, |S| S::placeholder(n))
    }

    /// The column type a kind is created as.
    pub fn column_type(self, kind: ColumnKind) -> Cow<'static, str> {
        with_dialect!(self, |S| S::column_type(kind))
    }

    /// The column type for a key column (id, unique, finder): MySQL cannot
    /// index unbounded text.
    pub fn key_column_type(self, kind: ColumnKind) -> Cow<'static, str> {
        with_dialect!(self, |S| S::key_column_type(kind))
    }
}

/// The DDL of the outbox (and, on SQLite, of the relay lease) in `dialect`.
pub fn outbox_ddl(dialect: Dialect) -> Vec<String> {
    with_dialect!(dialect, |S| crate::outbox_table::outbox_ddl_of::<S>())
}

/// The DDL of the inbox (`uow_inbox`) in `dialect`.
pub fn inbox_ddl(dialect: Dialect) -> Vec<String> {
    with_dialect!(dialect, |S| crate::inbox::inbox_ddl_of::<S>())
}

#[cfg(test)]
mod tests {
    use super::Dialect;

    #[test]
    fn quoting_doubles_the_quote_character() {
        assert_eq!(Dialect::Postgres.quote("a\"b"), "\"a\"\"b\"");
        assert_eq!(Dialect::MySql.quote("a`b"), "`a``b`");
        assert_eq!(Dialect::Sqlite.quote("plain"), "`plain`");
    }
}
