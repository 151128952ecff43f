//! The one place where a database is picked at run time: [`Pool`], an enum
//! with a variant per database compiled in (cargo features `sqlite`,
//! `postgres`, `mysql`), and [`with_pool!`], which runs code generic over
//! [`Driver`](crate::driver::Driver) on whichever database a pool is of.
//! Everything else is either generic over the driver or lives in the
//! database's own module (`driver/<database>.rs`).

#[cfg(not(any(feature = "sqlite", feature = "postgres", feature = "mysql")))]
compile_error!("uow-sqlx needs at least one of its features `sqlite`, `postgres`, `mysql`");

use crate::dialect::Dialect;
use crate::driver::Driver;

/// A connection pool of one of the databases compiled in.
#[derive(Clone, Debug)]
pub(crate) enum Pool {
    /// SQLite.
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::SqlitePool),
    /// PostgreSQL.
    #[cfg(feature = "postgres")]
    Postgres(sqlx::PgPool),
    /// MySQL/MariaDB.
    #[cfg(feature = "mysql")]
    MySql(sqlx::MySqlPool),
}

/// Runs `$body` with `$pool` (a `&Pool` or `Pool`) bound to `$p`, the
/// `sqlx::Pool` of its database, and `$D` naming its driver type.
macro_rules! with_pool {
    ($pool:expr, |$p:ident, $D:ident| $body:expr) => {
        match $pool {
            #[cfg(feature = "sqlite")]
            $crate::backend::Pool::Sqlite($p) => {
                #[allow(dead_code)]
                type $D = $crate::driver::sqlite::SqliteDriver;
                $body
            }
            #[cfg(feature = "postgres")]
            $crate::backend::Pool::Postgres($p) => {
                #[allow(dead_code)]
                type $D = $crate::driver::postgres::PostgresDriver;
                $body
            }
            #[cfg(feature = "mysql")]
            $crate::backend::Pool::MySql($p) => {
                #[allow(dead_code)]
                type $D = $crate::driver::mysql::MySqlDriver;
                $body
            }
        }
    };
}
pub(crate) use with_pool;

impl Pool {
    /// The pool's SQL dialect.
    pub(crate) fn dialect(&self) -> Dialect {
        with_pool!(self, |_pool, D| D::DIALECT)
    }
}

#[cfg(feature = "sqlite")]
impl From<sqlx::SqlitePool> for Pool {
    fn from(pool: sqlx::SqlitePool) -> Self {
        Pool::Sqlite(pool)
    }
}

#[cfg(feature = "postgres")]
impl From<sqlx::PgPool> for Pool {
    fn from(pool: sqlx::PgPool) -> Self {
        Pool::Postgres(pool)
    }
}

#[cfg(feature = "mysql")]
impl From<sqlx::MySqlPool> for Pool {
    fn from(pool: sqlx::MySqlPool) -> Self {
        Pool::MySql(pool)
    }
}
