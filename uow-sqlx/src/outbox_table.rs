//! The outbox table: its name, its columns (described as an aggregate, so
//! schema creation and verification treat it as any table), the row of a
//! record, and its DDL, written once over [`SqlDialect`] (each database's
//! column types are its `OUTBOX_TYPES`). What a commit needs to write
//! messages (`flush.rs`) and what the store needs to create and verify the
//! table (`store.rs`), apart from the claim protocol (`outbox.rs`), which
//! uses the store.

use uow_core::backend::{AggregateMeta, ColumnKind, ColumnMeta, ColumnRole, Value};
use uow_core::outbox::OutboxRecord;

use crate::dialect::{OutboxTypes, SqlDialect};

/// The outbox table's name.
pub const OUTBOX_TABLE: &str = "uow_outbox";

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
    indexes: &[],
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

/// The DDL of the outbox (and, where relays take turns, of the relay lease).
pub(crate) fn outbox_ddl_of<S: SqlDialect>() -> Vec<String> {
    let q = S::quote;
    let OutboxTypes {
        seq,
        key,
        text,
        json,
        big,
        int,
    } = S::OUTBOX_TYPES;
    let strict = S::TABLE_OPTIONS;
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
        "{} {} ON {} ({}, {}, {})",
        S::CREATE_INDEX,
        q("uow_outbox_aggregate_idx"),
        q(OUTBOX_TABLE),
        q("aggregate_type"),
        q("aggregate_id"),
        q("seq")
    ));
    statements.extend(S::relay_lease_ddl());
    statements
}
