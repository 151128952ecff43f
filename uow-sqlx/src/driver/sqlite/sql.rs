//! SQLite's SQL text: backquoted names, `?` placeholders, `STRICT` tables
//! whose types are INTEGER, REAL, TEXT and BLOB (dates, times, UUIDs and
//! decimals as text in formats that sort as the values do), batch updates
//! and padded inserts over a `VALUES` list, no row locks (a commit holds
//! the only write lock), a relay lease instead of `SKIP LOCKED`.

use std::borrow::Cow;

use uow_core::backend::{AggregateMeta, ColumnKind, ColumnMeta};

use crate::dialect::{Dialect, OutboxTypes, SqlDialect, non_id_columns, values_list};
use crate::existing::ExistingColumn;

/// The table of the outbox relay lease.
pub(crate) const LEASE_TABLE: &str = "uow_outbox_lease";

/// SQLite's SQL.
#[derive(Debug)]
pub(crate) struct SqliteSql;

impl SqlDialect for SqliteSql {
    const DIALECT: Dialect = Dialect::Sqlite;
    const NAME: &'static str = "sqlite";

    /// SQLite takes a double-quoted name that matches no column for a string
    /// literal, so a column missing from a table would read as its own name;
    /// a name in backquotes is always an identifier, and a missing column an
    /// error that names it.
    fn quote(ident: &str) -> String {
        format!("`{}`", ident.replace('`', "``"))
    }

    fn placeholder(_n: usize) -> String {
        "?".to_owned()
    }

    /// STRICT tables accept only INTEGER, REAL, TEXT, BLOB and ANY. Dates,
    /// times, UUIDs and decimals are stored as text in a fixed format that
    /// sorts the way the values do (decimals as their
    /// `uow_core::backend::decimal_sort_key`, at the column's scale for
    /// fixed ones).
    fn column_type(kind: ColumnKind) -> Cow<'static, str> {
        use ColumnKind::*;
        match kind {
            Bool | SmallInt | Int | BigInt => "INTEGER",
            Real | Double => "REAL",
            Bytes => "BLOB",
            Text
            | Json
            | Uuid
            | TimestampTz
            | Timestamp
            | Date
            | Time
            | Decimal
            | FixedDecimal { .. } => "TEXT",
        }
        .into()
    }

    fn padded_insert(meta: &AggregateMeta, rows: usize) -> String {
        let columns: Vec<_> = meta.columns.iter().map(|c| Self::quote(c.name)).collect();
        format!(
            "INSERT INTO {} ({}) SELECT * FROM (VALUES {}) AS v WHERE v.column{} IS NOT NULL",
            Self::quote(meta.table),
            columns.join(", "),
            values_list::<Self>(rows, meta.columns.len(), |_| None),
            meta.id + 1
        )
    }

    fn batch_update(meta: &AggregateMeta, rows: usize) -> String {
        let table = Self::quote(meta.table);
        let id = Self::quote(meta.id_column().name);
        let version = Self::quote(meta.version_column().name);
        let sets: Vec<String> = non_id_columns(meta)
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{} = v.column{}", Self::quote(c.name), i + 3))
            .collect();
        format!(
            "UPDATE {table} SET {} FROM (VALUES {}) AS v WHERE {table}.{id} = v.column1 AND {table}.{version} = v.column2",
            sets.join(", "),
            values_list::<Self>(rows, meta.columns.len() + 1, |_| None)
        )
    }

    const TABLE_OPTIONS: &'static str = " STRICT";

    /// Keys are table constraints (see `table_constraints`).
    fn column_constraint(_column: &ColumnMeta) -> &'static str {
        ""
    }

    /// SQLite checks unique constraints in the reverse of their order in
    /// the table, and reports the first it finds violated. Declared in
    /// reverse, an insert that takes both a stored id and a stored `unique`
    /// value is reported as a duplicate id, and of two `unique` columns the
    /// first is reported: as PostgreSQL, MySQL and the in-memory store
    /// report them.
    fn table_constraints(meta: &AggregateMeta) -> Vec<String> {
        let mut constraints: Vec<String> = meta
            .columns
            .iter()
            .rev()
            .filter(|c| c.is_unique())
            .map(|c| format!("UNIQUE ({})", Self::quote(c.name)))
            .collect();
        constraints.push(format!(
            "PRIMARY KEY ({})",
            Self::quote(meta.id_column().name)
        ));
        constraints
    }

    /// SQLite's type affinity, by the rules of its documentation: an
    /// INTEGER column holds any 64-bit integer, a TEXT one any text whatever
    /// length a declared CHAR(n) or VARCHAR(n) names.
    fn incompatible(kind: ColumnKind, _key: bool, found: &ExistingColumn) -> Option<String> {
        use ColumnKind::*;
        let ty = found.ty.as_str();
        let fits = match kind {
            Bool | SmallInt | Int | BigInt => ty.contains("int"),
            Real | Double => ["real", "floa", "doub"].iter().any(|t| ty.contains(t)),
            Bytes => ty.contains("blob"),
            Text
            | Json
            | Uuid
            | TimestampTz
            | Timestamp
            | Date
            | Time
            | Decimal
            | FixedDecimal { .. } => ["text", "char", "clob"].iter().any(|t| ty.contains(t)),
        };
        (!fits).then(String::new)
    }

    fn marker_key_type() -> Cow<'static, str> {
        "TEXT".into()
    }

    /// One B-tree: the marker table is written by every commit.
    const MARKER_TABLE_OPTIONS: &'static str = " STRICT, WITHOUT ROWID";

    const OUTBOX_TYPES: OutboxTypes = OutboxTypes {
        seq: "INTEGER PRIMARY KEY AUTOINCREMENT",
        key: "TEXT",
        text: "TEXT",
        json: "TEXT",
        big: "INTEGER",
        int: "INTEGER",
    };

    fn relay_lease_ddl() -> Option<String> {
        Some(format!(
            "CREATE TABLE IF NOT EXISTS {} ({} TEXT PRIMARY KEY, {} TEXT NOT NULL, {} INTEGER NOT NULL) STRICT",
            Self::quote(LEASE_TABLE),
            Self::quote("name"),
            Self::quote("holder"),
            Self::quote("expires_at")
        ))
    }

    /// One relay at a time holds the lease.
    const CLAIM_LOCK: &'static str = "";
}
