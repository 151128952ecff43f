//! The outbox table: its name, its columns (described as an aggregate, so
//! schema creation and verification treat it as any table), the row of a
//! record, and its DDL per dialect. What a commit needs to write messages
//! (`flush.rs`) and what the store needs to create and verify the table
//! (`store.rs`), apart from the claim protocol (`outbox.rs`), which uses the
//! store.

use std::time::Duration;

use uow_core::backend::{AggregateMeta, ColumnKind, ColumnMeta, ColumnRole, Value};
use uow_core::outbox::OutboxRecord;

use crate::dialect::Dialect;

/// The outbox table's name.
pub const OUTBOX_TABLE: &str = "uow_outbox";
pub(crate) const LEASE_TABLE: &str = "uow_outbox_lease";
/// How long a SQLite relay's lease lasts without renewal.
pub(crate) const LEASE: Duration = Duration::from_secs(30);

const fn column(name: &'static str, kind: ColumnKind, role: ColumnRole) -> ColumnMeta {
    ColumnMeta {
        name,
        field: name,
        kind,
        nullable: false,
        role,
    }
}

/// The columns a commit writes, described like an aggregate so the batched
/// insert of the flush writes them.
pub(crate) static OUTBOX_META: AggregateMeta = AggregateMeta {
    name: "outbox",
    table: OUTBOX_TABLE,
    columns: &[
        column("event_id", ColumnKind::Text, ColumnRole::Id),
        column("aggregate_type", ColumnKind::Text, ColumnRole::Plain),
        column("aggregate_id", ColumnKind::Text, ColumnRole::Plain),
        column("event_type", ColumnKind::Text, ColumnRole::Plain),
        // Text on every backend: the payload is stored as serialized, byte
        // for byte (PostgreSQL's JSONB would re-format it).
        column("payload", ColumnKind::Text, ColumnRole::Plain),
        column("created_at", ColumnKind::BigInt, ColumnRole::Version),
    ],
    id: 0,
    version: 5,
    children: &[],
};

/// The row a commit inserts for one record.
pub(crate) fn outbox_row(record: OutboxRecord) -> Vec<Value> {
    vec![
        Value::Text(record.event_id),
        Value::Text(record.aggregate_type),
        Value::Text(record.aggregate_id),
        Value::Text(record.event_type),
        Value::Text(record.payload),
        Value::Int(record.created_at),
    ]
}

/// The DDL of the outbox (and, on SQLite, of the relay lease).
pub fn outbox_ddl(dialect: Dialect) -> Vec<String> {
    let q = |name: &str| dialect.quote(name);
    let (seq, key, text, json, big, int, strict) = match dialect {
        Dialect::Sqlite => (
            "INTEGER PRIMARY KEY AUTOINCREMENT",
            "TEXT",
            "TEXT",
            "TEXT",
            "INTEGER",
            "INTEGER",
            " STRICT",
        ),
        Dialect::Postgres => (
            "BIGSERIAL PRIMARY KEY",
            "VARCHAR(255)",
            "TEXT",
            "TEXT",
            "BIGINT",
            "INTEGER",
            "",
        ),
        Dialect::MySql => (
            "BIGINT AUTO_INCREMENT PRIMARY KEY",
            "VARCHAR(255) COLLATE utf8mb4_nopad_bin",
            "LONGTEXT",
            "JSON",
            "BIGINT",
            "INT",
            "",
        ),
    };
    let if_not_exists = if dialect == Dialect::MySql {
        ""
    } else {
        "IF NOT EXISTS "
    };
    let mut statements = vec![format!(
        "CREATE TABLE IF NOT EXISTS {table} (\n    {seq_col} {seq},\n    {event_id} {key} NOT NULL UNIQUE,\n    {aggregate_type} {key} NOT NULL,\n    {aggregate_id} {key} NOT NULL,\n    {event_type} {key} NOT NULL,\n    {payload} {json} NOT NULL,\n    {created_at} {big} NOT NULL,\n    {attempts} {int} NOT NULL DEFAULT 0,\n    {next_attempt_at} {big} NOT NULL DEFAULT 0,\n    {delivered_at} {big},\n    {last_error} {text},\n    {dead_at} {big}\n){strict}",
        table = q(OUTBOX_TABLE),
        seq_col = q("seq"),
        event_id = q("event_id"),
        aggregate_type = q("aggregate_type"),
        aggregate_id = q("aggregate_id"),
        event_type = q("event_type"),
        payload = q("payload"),
        created_at = q("created_at"),
        attempts = q("attempts"),
        next_attempt_at = q("next_attempt_at"),
        delivered_at = q("delivered_at"),
        last_error = q("last_error"),
        dead_at = q("dead_at"),
    )];
    statements.push(format!(
        "CREATE INDEX {if_not_exists}{} ON {} ({}, {}, {})",
        q("uow_outbox_aggregate_idx"),
        q(OUTBOX_TABLE),
        q("aggregate_type"),
        q("aggregate_id"),
        q("seq")
    ));
    if dialect == Dialect::Sqlite {
        statements.push(format!(
            "CREATE TABLE IF NOT EXISTS {} ({} TEXT PRIMARY KEY, {} TEXT NOT NULL, {} INTEGER NOT NULL) STRICT",
            q(LEASE_TABLE),
            q("name"),
            q("holder"),
            q("expires_at")
        ));
    }
    statements
}
