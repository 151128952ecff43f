//! What a database's SQL looks like, as a trait: [`SqlDialect`], implemented
//! once per database in `driver/<database>/sql.rs` (quoting, placeholders,
//! column types, batch statement variants, DDL details, the outbox's and
//! commit markers' column types, the schema check of a column). The
//! builders of statements and DDL (`sql.rs`, `schema.rs`, `outbox_table.rs`,
//! `commit_marker.rs`, `outbox.rs`) are written once over it. Pure text,
//! compiled whatever the features: the DDL of every database can be printed
//! from any build.
//!
//! [`Dialect`] is the public name of a database (what
//! [`SqlxStore::dialect`](crate::SqlxStore::dialect) answers); its methods
//! hand over to the database's [`SqlDialect`] in `crate::backend`, the one
//! place that turns a run-time choice into a call of a database's code.

use std::borrow::Cow;

use sqlx::SqlStr;
use uow_core::backend::{AggregateMeta, ColumnKind, ColumnMeta, ColumnRole, CompareOp};

use crate::existing::ExistingColumn;

/// A SQL dialect uow generates statements for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Dialect {
    /// SQLite 3.37+ (tables are created `STRICT`).
    Sqlite,
    /// PostgreSQL 12+.
    Postgres,
    /// MariaDB 10.6+ (tables uow creates use its `utf8mb4_nopad_bin`
    /// collation) and MySQL 8 (whose tables a migration creates with
    /// `utf8mb4_0900_bin`).
    MySql,
}

/// The SQL text of one database. Associated functions and constants only:
/// implemented by a unit struct per database, and called as
/// `S::quote(name)` from code generic over `S: SqlDialect`.
pub(crate) trait SqlDialect: Send + Sync + 'static {
    /// The public name of the database.
    const DIALECT: Dialect;
    /// Its name in messages and test names.
    const NAME: &'static str;

    /// Quotes an identifier, doubling the quote character inside it.
    fn quote(ident: &str) -> String;

    /// The bind-parameter placeholder for the `n`-th parameter (1-based).
    fn placeholder(n: usize) -> String;

    /// The left side of a typed query's comparison `op` of `column` (its
    /// quoted name), stored as `kind`, such that the database compares as
    /// `uow_core::query` defines: text by bytes, decimals numerically then
    /// by scale. The column itself where the database does so already.
    fn query_operand(column: &str, kind: ColumnKind, op: CompareOp) -> String {
        let _ = (kind, op);
        column.to_owned()
    }

    /// The right side of a comparison: the parameter `placeholder` of a
    /// value stored as `kind`, in the shape of [`query_operand`](SqlDialect::query_operand).
    fn query_parameter(placeholder: &str, kind: ColumnKind) -> String {
        let _ = kind;
        placeholder.to_owned()
    }

    /// One `ORDER BY` term of `column` stored as `kind` (`nullable` if it
    /// may hold `NULL`): `NULL`s first ascending and last descending (where
    /// `NULL` is the smallest value, as on SQLite and MySQL/MariaDB, the
    /// plain `ASC`/`DESC`).
    fn query_order(column: &str, kind: ColumnKind, nullable: bool, descending: bool) -> String {
        let _ = (kind, nullable);
        format!("{column} {}", if descending { "DESC" } else { "ASC" })
    }

    /// The column type a kind is created as.
    fn column_type(kind: ColumnKind) -> Cow<'static, str>;

    /// The column type for a key column (id, unique, finder).
    fn key_column_type(kind: ColumnKind) -> Cow<'static, str> {
        Self::column_type(kind)
    }

    /// The `ORDER BY` expression of the id column, ordering ids the way the
    /// in-memory store does (byte by byte).
    fn order_by_id(meta: &AggregateMeta) -> String {
        Self::quote(meta.id_column().name)
    }

    /// Batch statements that bind one array per column (one statement text
    /// for any number of rows), where the database has arrays.
    fn array_sql(meta: &AggregateMeta) -> Option<ArraySql> {
        let _ = meta;
        None
    }

    /// An `INSERT` of `rows` rows whose rows with a NULL id (padding) are
    /// skipped; binds full rows.
    fn padded_insert(meta: &AggregateMeta, rows: usize) -> String;

    /// An `UPDATE` of `rows` rows from a list of values, each guarded by its
    /// version; binds, per row, the id, the expected version ([`EXPECTED`]),
    /// then the non-id columns.
    fn batch_update(meta: &AggregateMeta, rows: usize) -> String;

    /// What follows the column list of `CREATE TABLE`.
    const TABLE_OPTIONS: &'static str = "";

    /// `CREATE INDEX`, with `IF NOT EXISTS` where the database has it (else
    /// the driver's `exists_already` tells an existing index from an error).
    const CREATE_INDEX: &'static str = "CREATE INDEX IF NOT EXISTS";

    /// The constraint written after a column's definition.
    fn column_constraint(column: &ColumnMeta) -> &'static str {
        match column.role {
            ColumnRole::Id => " PRIMARY KEY",
            ColumnRole::Unique => " UNIQUE",
            // ColumnRole is `#[non_exhaustive]`: a role of a later uow-core
            // gets no inline constraint.
            _ => "",
        }
    }

    /// Constraints written after the columns of `CREATE TABLE`.
    fn table_constraints(meta: &AggregateMeta) -> Vec<String> {
        let _ = meta;
        Vec::new()
    }

    /// Why a column the database reports as `found` cannot hold every value
    /// of a field of `kind` the way this database reads and writes it (`key`:
    /// an id, `unique` or `find_by` column); `None` when it can, an empty
    /// string when the type alone is wrong.
    fn incompatible(kind: ColumnKind, key: bool, found: &ExistingColumn) -> Option<String>;

    /// The type of the commit marker table's key: its text sorts by time.
    fn marker_key_type() -> Cow<'static, str> {
        Self::key_column_type(ColumnKind::Text)
    }

    /// `update` (an aggregate's version-checked `UPDATE`) and the insert of
    /// a commit marker folded into one statement, whose affected-row count
    /// is 1 when the update matched its row (and the marker was inserted)
    /// and 0 when it did not (and no marker was inserted); the marker's
    /// unit id is parameter `unit`. `None` where the database cannot fold
    /// them: the commit then runs them in a transaction.
    fn marked_update(update: &str, unit: usize) -> Option<String> {
        let _ = (update, unit);
        None
    }

    /// What follows the column list of the commit marker table.
    const MARKER_TABLE_OPTIONS: &'static str = Self::TABLE_OPTIONS;

    /// The column types of the outbox table.
    const OUTBOX_TYPES: OutboxTypes;

    /// The relay lease table, where relays take turns instead of locking
    /// rows (see [`CLAIM_LOCK`](Self::CLAIM_LOCK)).
    fn relay_lease_ddl() -> Option<String> {
        None
    }

    /// What follows the `SELECT` of an outbox claim: rows other relays hold
    /// are skipped (empty where one relay at a time holds a lease).
    const CLAIM_LOCK: &'static str = " FOR UPDATE SKIP LOCKED";
}

/// The column types of the outbox table in one database.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OutboxTypes {
    /// The sequence: an auto-incremented primary key.
    pub(crate) seq: &'static str,
    /// Event ids, aggregate types and ids, event types.
    pub(crate) key: &'static str,
    /// The last error.
    pub(crate) text: &'static str,
    /// The payload.
    pub(crate) json: &'static str,
    /// Times in microseconds.
    pub(crate) big: &'static str,
    /// The attempt count.
    pub(crate) int: &'static str,
}

/// Batch statements over whole columns (`UNNEST` of one array parameter per
/// column on PostgreSQL): one statement, and one round trip, per batch of
/// any size, where a `VALUES` list needs a statement text per row count and
/// a parameter per value.
#[derive(Debug)]
pub struct ArraySql {
    /// `INSERT INTO t (<columns>) SELECT ... FROM UNNEST($1::T[], ...)`:
    /// binds one array per column.
    pub insert: SqlStr,
    /// `UPDATE t SET ... FROM UNNEST(<ids>, <expected versions>, <non-id
    /// columns>) AS u WHERE t.id = u.id AND t.version = u.expected`: binds
    /// the arrays in that order.
    pub update: SqlStr,
}

/// The name of the expected-version column of an update's values list.
pub(crate) const EXPECTED: &str = "__uow_expected";

/// The non-id columns, in the order their values are bound for updates.
pub(crate) fn non_id_columns(meta: &AggregateMeta) -> Vec<&ColumnMeta> {
    meta.columns
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != meta.id)
        .map(|(_, c)| c)
        .collect()
}

/// `(?, ?), (?, ?)`: `rows` tuples of `per_row` placeholders numbered from
/// 1, each cast to `typed(i)` where that is `Some`.
pub(crate) fn values_list<S: SqlDialect>(
    rows: usize,
    per_row: usize,
    typed: impl Fn(usize) -> Option<String>,
) -> String {
    let mut n = 0;
    (0..rows)
        .map(|_| {
            let values: Vec<String> = (0..per_row)
                .map(|i| {
                    n += 1;
                    match typed(i) {
                        Some(ty) => format!("{}::{ty}", S::placeholder(n)),
                        None => S::placeholder(n),
                    }
                })
                .collect();
            format!("({})", values.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The text is built from validated identifiers and placeholders only.
pub(crate) fn sql(text: String) -> SqlStr {
    use sqlx::SqlSafeStr;
    sqlx::AssertSqlSafe(text).into_sql_str()
}
