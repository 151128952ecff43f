//! One round trip per database, compiled only with that database's feature,
//! so that each feature is exercised alone:
//!
//! ```text
//! cargo test -p uow-sqlx --no-default-features --features sqlite
//! UOW_TEST_POSTGRES_URL=postgres://… cargo test -p uow-sqlx --no-default-features --features postgres
//! UOW_TEST_MYSQL_URL=mysql://… cargo test -p uow-sqlx --no-default-features --features mysql
//! ```
//!
//! The server tests skip without their URL, and fail without it when
//! `CI=true`. Each works in a schema (PostgreSQL) or database (MySQL) of its
//! own, dropped at the end.
#![allow(dead_code)]

use uow_core::{Aggregate, Error, unit_of_work};
use uow_sqlx::SqlxStore;

/// A note: a key, a version, a unique tag.
#[derive(Aggregate, Clone, Debug, PartialEq)]
#[aggregate(table = "feature_notes")]
pub struct Note {
    #[aggregate(id)]
    pub id: String,
    #[aggregate(version)]
    pub version: u64,
    pub body: String,
    #[aggregate(unique)]
    pub tag: String,
}

/// The unit of work of these tests.
#[unit_of_work]
pub struct Notes {
    pub notes: Note,
}

fn note(id: &str, tag: &str) -> Note {
    Note {
        id: id.to_owned(),
        version: 0,
        body: format!("body of {id}"),
        tag: tag.to_owned(),
    }
}

/// Tables made and verified; a note added, read, updated; a stale update a
/// conflict; a duplicate tag a duplicate; a removal stored.
async fn round_trip(store: &SqlxStore) {
    store
        .create_tables_for::<Notes<SqlxStore>>()
        .await
        .expect("create");
    store
        .verify_tables_for::<Notes<SqlxStore>>()
        .await
        .expect("the tables uow made fit");

    let mut uow = Notes::begin(store).await.expect("begin");
    uow.notes.add(note("a", "t1")).expect("add");
    uow.commit().await.expect("commit");

    let mut first = Notes::begin(store).await.expect("begin");
    let mut second = Notes::begin(store).await.expect("begin");
    let a = first.notes.get(&"a".to_owned()).await.expect("get");
    let a = a.expect("stored");
    assert_eq!(a.body, "body of a");
    a.body = "first".to_owned();
    second
        .notes
        .get(&"a".to_owned())
        .await
        .expect("get")
        .expect("stored")
        .body = "second".to_owned();
    first.commit().await.expect("the first update");
    match second.commit().await {
        Err(e @ Error::Conflict { .. }) => assert!(e.is_conflict()),
        other => panic!("expected a conflict, got {other:?}"),
    }

    let mut uow = Notes::begin(store).await.expect("begin");
    uow.notes.add(note("b", "t1")).expect("add");
    match uow.commit().await {
        Err(Error::Duplicate { column, .. }) => assert_eq!(column, "tag"),
        other => panic!("expected a duplicate, got {other:?}"),
    }

    let mut uow = Notes::begin(store).await.expect("begin");
    uow.notes.remove(&"a".to_owned()).await.expect("remove");
    uow.commit().await.expect("commit the removal");
    let mut uow = Notes::begin(store).await.expect("begin");
    assert!(uow.notes.get(&"a".to_owned()).await.expect("get").is_none());
}

/// The server URL in `var`; `None` (the test skips) without one, a failure
/// without one when `CI=true`.
fn server_url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("{var} is not set, and CI=true requires this backend's tests")
        }
        _ => {
            eprintln!("{var} is not set: skipped");
            None
        }
    }
}

/// A name of this test run's own.
fn scratch_name(test: &str) -> String {
    format!("uow_feature_{}_{test}", std::process::id())
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use super::*;

    #[tokio::test]
    async fn a_round_trip_on_sqlite_alone() {
        let path = std::env::temp_dir().join(format!("{}.db", scratch_name("sqlite")));
        let url = format!("sqlite://{}", path.display());
        let store = SqlxStore::connect(&url).await.expect("connect");
        assert_eq!(store.dialect(), uow_sqlx::Dialect::Sqlite);
        round_trip(&store).await;
        drop(store);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
}

#[cfg(feature = "postgres")]
mod postgres {
    use sqlx::{Connection, Executor};

    use super::*;

    #[tokio::test]
    async fn a_round_trip_on_postgres_alone() {
        let Some(url) = server_url("UOW_TEST_POSTGRES_URL") else {
            return;
        };
        let schema = scratch_name("pg");
        let mut admin = sqlx::PgConnection::connect(&url).await.expect("connect");
        let create = format!("CREATE SCHEMA \"{schema}\"");
        admin
            .execute(sqlx::AssertSqlSafe(create))
            .await
            .expect("schema");
        let separator = if url.contains('?') { '&' } else { '?' };
        let scoped = format!("{url}{separator}options=-c%20search_path%3D{schema}");
        let store = SqlxStore::connect(&scoped).await.expect("connect");
        assert_eq!(store.dialect(), uow_sqlx::Dialect::Postgres);
        round_trip(&store).await;
        drop(store);
        let drop_schema = format!("DROP SCHEMA \"{schema}\" CASCADE");
        admin
            .execute(sqlx::AssertSqlSafe(drop_schema))
            .await
            .expect("drop the schema");
    }
}

#[cfg(feature = "mysql")]
mod mysql {
    use sqlx::mysql::MySqlPoolOptions;
    use sqlx::{Connection, Executor};
    use uow_sqlx::{Isolation, StoreOptions};

    use super::*;

    /// `url` with its database replaced by `database`.
    fn with_database(url: &str, database: &str) -> String {
        let (base, query) = url
            .split_once('?')
            .map_or((url, None), |(b, q)| (b, Some(q)));
        let authority = base.find("://").map_or(0, |i| i + 3);
        let base = match base[authority..].find('/') {
            Some(slash) => &base[..authority + slash],
            None => base,
        };
        match query {
            Some(query) => format!("{base}/{database}?{query}"),
            None => format!("{base}/{database}"),
        }
    }

    /// A database of this test's own; the admin connection and its URL.
    async fn scratch(test: &str) -> Option<(sqlx::MySqlConnection, String, String)> {
        let url = server_url("UOW_TEST_MYSQL_URL")?.replacen("mariadb:", "mysql:", 1);
        let database = scratch_name(test);
        let mut admin = sqlx::MySqlConnection::connect(&url).await.expect("connect");
        let create = format!("CREATE DATABASE `{database}` CHARACTER SET utf8mb4");
        admin
            .execute(sqlx::AssertSqlSafe(create))
            .await
            .expect("database");
        Some((admin, with_database(&url, &database), database))
    }

    async fn drop_database(mut admin: sqlx::MySqlConnection, database: &str) {
        let drop = format!("DROP DATABASE `{database}`");
        admin
            .execute(sqlx::AssertSqlSafe(drop))
            .await
            .expect("drop the database");
    }

    #[tokio::test]
    async fn a_round_trip_on_mysql_alone() {
        let Some((admin, url, database)) = scratch("my").await else {
            return;
        };
        let store = SqlxStore::connect(&url).await.expect("connect");
        assert_eq!(store.dialect(), uow_sqlx::Dialect::MySql);
        round_trip(&store).await;
        drop(store);
        drop_database(admin, &database).await;
    }

    /// A pool made outside uow, passed with `from_pool`, runs units of work
    /// at the isolation level asked for (the pool's sessions start at
    /// InnoDB's REPEATABLE READ), told by what a unit of work sees:
    /// READ COMMITTED sees a row committed after its first read, REPEATABLE
    /// READ does not, SERIALIZABLE holds a shared lock on what it read, so a
    /// writer of that row waits (and here times out).
    #[tokio::test]
    async fn a_pool_brought_in_runs_at_the_isolation_level_asked_for() {
        let Some((admin, url, database)) = scratch("iso").await else {
            return;
        };
        let pool = MySqlPoolOptions::new()
            .max_connections(2)
            .connect(&url)
            .await
            .expect("pool");
        let writer = SqlxStore::connect_with(
            &url,
            StoreOptions::new().lock_timeout(std::time::Duration::from_secs(1)),
        )
        .await
        .expect("connect");
        writer
            .create_tables_for::<Notes<SqlxStore>>()
            .await
            .expect("create");
        let mut uow = Notes::begin(&writer).await.expect("begin");
        uow.notes.add(note("a", "t-a")).expect("add");
        uow.commit().await.expect("commit");

        for (n, isolation) in [
            Isolation::ReadCommitted,
            Isolation::RepeatableRead,
            Isolation::Serializable,
        ]
        .into_iter()
        .enumerate()
        {
            let store =
                SqlxStore::from_pool(pool.clone(), StoreOptions::new().isolation(isolation));
            let mut reader = Notes::begin(&store).await.expect("begin");
            reader.notes.get(&"a".to_owned()).await.expect("read a");

            let later = format!("later-{n}");
            let mut uow = Notes::begin(&writer).await.expect("begin");
            uow.notes.add(note(&later, &later)).expect("add");
            uow.commit().await.expect("a new row is never blocked");
            let seen = reader.notes.get(&later).await.expect("read").is_some();

            let mut uow = Notes::begin(&writer).await.expect("begin");
            uow.notes
                .get(&"a".to_owned())
                .await
                .expect("read")
                .expect("stored")
                .body = format!("changed {n}");
            let blocked = match uow.commit().await {
                Ok(_) => false,
                Err(e @ Error::Timeout { .. }) => {
                    assert!(e.is_conflict() || e.is_retryable(), "{e}");
                    true
                }
                Err(other) => panic!("{isolation:?}: {other:?}"),
            };
            drop(reader);
            let expected = match isolation {
                Isolation::ReadCommitted => (true, false),
                Isolation::RepeatableRead => (false, false),
                _ => (true, true),
            };
            assert_eq!(
                (seen, blocked),
                expected,
                "{isolation:?}: (sees a row committed after its first read, blocks a writer of what it read)"
            );
        }
        pool.close().await;
        drop_database(admin, &database).await;
    }
}

/// A build without SQLite refuses a `sqlite:` URL with an error that names
/// the schemes it takes.
#[cfg(not(feature = "sqlite"))]
#[tokio::test]
async fn a_backend_not_compiled_in_is_a_clear_error() {
    let error = SqlxStore::connect("sqlite::memory:")
        .await
        .expect_err("no SQLite in this build");
    // The reason is the error's source: print the whole chain, as an
    // error reporter does.
    let text = std::iter::successors(Some(&error as &dyn std::error::Error), |e| e.source())
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ");
    assert!(
        text.contains("unsupported URL scheme `sqlite:`") && text.contains("this build"),
        "{text}"
    );
}
