//! Commit markers: how a commit whose connection failed is found out.
//!
//! Every commit that writes something also inserts a row with its unit of
//! work's id into `uow_commits`, first, in its own transaction. When the
//! connection fails after `COMMIT` may have reached the server, the store
//! inserts the same id again on a fresh connection, marked `fenced`:
//!
//! - the insert waits for the row lock of the commit's own marker while
//!   that commit is still in flight on the server, so it never reads a
//!   commit that has not ended yet;
//! - a duplicate means a marker is stored: the unit of work was committed
//!   (unless the stored row is itself a fence of an earlier check);
//! - a successful insert means it was not committed, and the fence makes sure
//!   it never will be: the commit's own insert of its marker would now fail.
//!
//! The same check answers `Store::commit_outcome` for a caller whose timeout
//! dropped a commit future. Markers (and fences) older than the store's
//! `commit_markers_kept` are deleted every [`PRUNE_EVERY`] commits.
//!
//! The table is as small as the check allows — the id as its primary key and
//! the fence flag, no other index (on SQLite a `WITHOUT ROWID` table: one
//! B-tree) — since every commit writes to it. A unit id is a UUID version 7,
//! whose text sorts by the time it was made, so markers are pruned by id
//! range.

use sqlx::{AssertSqlSafe, SqlSafeStr, SqlStr};
use uow_core::{
    CommitOutcome, UnitId,
    backend::{AggregateMeta, ColumnKind, ColumnMeta, ColumnRole, Value},
};

use crate::dialect::SqlDialect;
use crate::driver::{Conn, Driver, Failure, Stmt, failure};

/// The marker table's name.
pub const COMMITS_TABLE: &str = "uow_commits";

/// A store deletes expired markers after this many of its commits.
pub(crate) const PRUNE_EVERY: u64 = 1_000;

const fn column(name: &'static str, kind: ColumnKind, role: ColumnRole) -> ColumnMeta {
    ColumnMeta {
        name,
        field: name,
        kind,
        nullable: false,
        role,
    }
}

/// The marker table, described like an aggregate so schema creation and
/// verification treat it as they treat the tables of aggregates.
pub(crate) static COMMITS_META: AggregateMeta = AggregateMeta {
    name: "commit marker",
    table: COMMITS_TABLE,
    columns: &[
        column("unit_id", ColumnKind::Text, ColumnRole::Id),
        // 1 for a fence written by an outcome check: not committed.
        column("fenced", ColumnKind::BigInt, ColumnRole::Version),
    ],
    id: 0,
    version: 1,
    indexes: &[],
};

/// The DDL of the marker table.
pub(crate) fn ddl<S: SqlDialect>() -> String {
    let q = S::quote;
    format!(
        "CREATE TABLE IF NOT EXISTS {} (\n    {} {} NOT NULL PRIMARY KEY,\n    {} {} NOT NULL\n){}",
        q(COMMITS_TABLE),
        q("unit_id"),
        S::marker_key_type(),
        q("fenced"),
        S::column_type(ColumnKind::BigInt),
        S::MARKER_TABLE_OPTIONS,
    )
}

/// The smallest UUID version 7 text of the millisecond `micros` falls in:
/// every id made before that millisecond sorts below it.
fn first_id_at(micros: i64) -> String {
    let millis = u64::try_from(micros / 1_000).unwrap_or(0) & 0xFFFF_FFFF_FFFF;
    format!("{:08x}-{:04x}", millis >> 16, millis & 0xFFFF)
}

/// The statement texts of the markers in one database, built once per store.
#[derive(Debug)]
pub(crate) struct MarkerSql {
    insert: SqlStr,
    fenced: SqlStr,
    prune: SqlStr,
}

impl MarkerSql {
    /// The texts in `S`.
    pub(crate) fn new<S: SqlDialect>() -> Self {
        let q = S::quote;
        let text = |s: String| AssertSqlSafe(s).into_sql_str();
        MarkerSql {
            insert: text(format!(
                "INSERT INTO {} ({}, {}) VALUES ({}, {})",
                q(COMMITS_TABLE),
                q("unit_id"),
                q("fenced"),
                S::placeholder(1),
                S::placeholder(2),
            )),
            fenced: text(format!(
                "SELECT {} FROM {} WHERE {} = {}",
                q("fenced"),
                q(COMMITS_TABLE),
                q("unit_id"),
                S::placeholder(1)
            )),
            prune: text(format!(
                "DELETE FROM {} WHERE {} < {}",
                q(COMMITS_TABLE),
                q("unit_id"),
                S::placeholder(1)
            )),
        }
    }
}

/// Binds a marker's value (text or integer, which every driver binds; a
/// failure is still reported, as an encoding error of the statement).
fn bind<D: Driver>(stmt: Stmt<D>, value: Value, kind: ColumnKind) -> Result<Stmt<D>, sqlx::Error> {
    D::bind(stmt, value, kind).map_err(|e| sqlx::Error::Encode(Box::new(e)))
}

fn insert<D: Driver>(
    texts: &MarkerSql,
    unit: &UnitId,
    fenced: bool,
) -> Result<Stmt<D>, sqlx::Error> {
    let stmt = D::query_with_capacity(texts.insert.clone(), 2);
    let stmt = bind::<D>(
        stmt,
        Value::Text(unit.as_str().to_owned()),
        ColumnKind::Text,
    )?;
    bind::<D>(stmt, Value::Int(i64::from(fenced)), ColumnKind::BigInt)
}

/// Writes the marker of a commit, inside its transaction. A duplicate
/// (`Failure::Unique`) means an outcome check fenced the unit of work.
pub(crate) async fn write<D: Driver>(
    texts: &MarkerSql,
    conn: &mut Conn<D>,
    unit: &UnitId,
) -> Result<(), sqlx::Error> {
    D::execute(conn, insert::<D>(texts, unit, false)?)
        .await
        .map(drop)
}

/// Finds out whether unit of work `unit` was committed, on a connection in
/// autocommit mode, fencing it if it was not (see the module docs).
pub(crate) async fn check<D: Driver>(
    texts: &MarkerSql,
    conn: &mut Conn<D>,
    unit: &UnitId,
) -> Result<CommitOutcome, sqlx::Error> {
    match D::execute(conn, insert::<D>(texts, unit, true)?).await {
        Ok(_) => Ok(CommitOutcome::NotCommitted),
        Err(e) if failure::<D>(&e) == Failure::Unique => {
            let stmt = bind::<D>(
                D::query_with_capacity(texts.fenced.clone(), 1),
                Value::Text(unit.as_str().to_owned()),
                ColumnKind::Text,
            )?;
            let row = D::fetch_optional(conn, stmt).await?;
            let fenced = match row {
                Some(row) => D::get(&row, 0, ColumnKind::BigInt)
                    .map_err(|e| sqlx::Error::Decode(e.to_string().into()))?,
                // Pruned between the two statements: long ago, so a commit.
                None => Value::Int(0),
            };
            Ok(if fenced == Value::Int(0) {
                CommitOutcome::Committed
            } else {
                CommitOutcome::NotCommitted
            })
        }
        Err(e) => Err(e),
    }
}

/// Deletes the markers of units of work begun before `before`
/// (microseconds since the epoch).
pub(crate) async fn prune<D: Driver>(
    texts: &MarkerSql,
    conn: &mut Conn<D>,
    before: i64,
) -> Result<u64, sqlx::Error> {
    let stmt = bind::<D>(
        D::query_with_capacity(texts.prune.clone(), 1),
        Value::Text(first_id_at(before)),
        ColumnKind::Text,
    )?;
    D::execute(conn, stmt).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_made_before_a_millisecond_sort_below_its_first_id() {
        let at = uow_core::backend::now_micros();
        let earlier = UnitId::new();
        std::thread::sleep(std::time::Duration::from_millis(3));
        let cutoff = first_id_at(uow_core::backend::now_micros());
        std::thread::sleep(std::time::Duration::from_millis(3));
        let later = UnitId::new();
        assert!(earlier.as_str() < cutoff.as_str(), "{earlier} < {cutoff}");
        assert!(later.as_str() > cutoff.as_str(), "{later} > {cutoff}");
        assert!(first_id_at(at).as_str() <= earlier.as_str());
    }
}
