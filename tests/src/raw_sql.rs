//! Statements of a test's own, run on the database under a [`SqlxStore`]
//! through its pool: to empty tables between generated programs, and to
//! corrupt rows or tables on purpose to see how uow reports what it finds.
//!
//! The statements are fixed texts of the tests, never built from values under
//! test.

use sqlx::{AssertSqlSafe, Executor};
use uow_sqlx::{Dialect, SqlxStore};

/// Runs one statement on the store's pool; the rows it affected.
pub async fn execute(store: &SqlxStore, sql: &str) -> Result<u64, sqlx::Error> {
    let sql = AssertSqlSafe(sql.to_owned());
    if let Some(pool) = store.sqlite_pool() {
        return Ok(pool.execute(sql).await?.rows_affected());
    }
    if let Some(pool) = store.postgres_pool() {
        return Ok(pool.execute(sql).await?.rows_affected());
    }
    if let Some(pool) = store.mysql_pool() {
        return Ok(pool.execute(sql).await?.rows_affected());
    }
    unreachable!("a SqlxStore has one of the three pools")
}

/// The integer the query returns (its first column of its first row).
pub async fn integer(store: &SqlxStore, sql: &str) -> Result<i64, sqlx::Error> {
    let sql = AssertSqlSafe(sql.to_owned());
    if let Some(pool) = store.sqlite_pool() {
        return sqlx::query_scalar(sql).fetch_one(pool).await;
    }
    if let Some(pool) = store.postgres_pool() {
        return sqlx::query_scalar(sql).fetch_one(pool).await;
    }
    if let Some(pool) = store.mysql_pool() {
        return sqlx::query_scalar(sql).fetch_one(pool).await;
    }
    unreachable!("a SqlxStore has one of the three pools")
}

/// The text the query returns (its first column of its first row).
pub async fn text(store: &SqlxStore, sql: &str) -> Result<String, sqlx::Error> {
    let sql = AssertSqlSafe(sql.to_owned());
    if let Some(pool) = store.sqlite_pool() {
        return sqlx::query_scalar(sql).fetch_one(pool).await;
    }
    if let Some(pool) = store.postgres_pool() {
        return sqlx::query_scalar(sql).fetch_one(pool).await;
    }
    if let Some(pool) = store.mysql_pool() {
        return sqlx::query_scalar(sql).fetch_one(pool).await;
    }
    unreachable!("a SqlxStore has one of the three pools")
}

/// Runs statements in order, panicking with the statement that failed.
pub async fn run(store: &SqlxStore, statements: &[&str]) {
    for sql in statements {
        if let Err(e) = execute(store, sql).await {
            panic!("{sql}: {e}");
        }
    }
}

/// Deletes every row of `tables`, in order.
pub async fn clear(store: &SqlxStore, tables: &[&str]) {
    for table in tables {
        let sql = format!("DELETE FROM {}", store.dialect().quote(table));
        if let Err(e) = execute(store, &sql).await {
            panic!("{sql}: {e}");
        }
    }
}

/// The statement text for `dialect` among three variants.
pub fn per_dialect<'a>(
    dialect: Dialect,
    sqlite: &'a str,
    postgres: &'a str,
    mysql: &'a str,
) -> &'a str {
    match dialect {
        Dialect::Sqlite => sqlite,
        Dialect::Postgres => postgres,
        _ => mysql,
    }
}
