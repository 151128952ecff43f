//! PostgreSQL's SQL text: double-quoted names, numbered placeholders
//! (`$1`), native types for every kind, text ids ordered `COLLATE "C"`,
//! batches as one array parameter per column (`UNNEST`) or typed `VALUES`
//! lists, `FOR UPDATE SKIP LOCKED` outbox claims.

use std::borrow::Cow;

use uow_core::backend::{AggregateMeta, ColumnKind, CompareOp};

use crate::dialect::{
    ArraySql, Dialect, EXPECTED, OutboxTypes, SqlDialect, non_id_columns, sql, values_list,
};
use crate::existing::{ExistingColumn, fixed_decimal_mismatch, text_length};

/// PostgreSQL's SQL.
#[derive(Debug)]
pub(crate) struct PostgresSql;

/// The array type a column of `kind` is bound as, and the cast from its
/// elements to the column's type where they differ (JSON and decimals
/// travel as text; integers of every width as BIGINT, which the assignment
/// to a narrower column checks).
pub(crate) fn array_type(kind: ColumnKind) -> (&'static str, Option<&'static str>) {
    match kind {
        ColumnKind::Bool => ("BOOLEAN[]", None),
        ColumnKind::SmallInt | ColumnKind::Int | ColumnKind::BigInt => ("BIGINT[]", None),
        ColumnKind::Real | ColumnKind::Double => ("DOUBLE PRECISION[]", None),
        ColumnKind::Bytes => ("BYTEA[]", None),
        ColumnKind::Json => ("TEXT[]", Some("JSONB")),
        ColumnKind::Uuid => ("UUID[]", None),
        ColumnKind::TimestampTz => ("TIMESTAMPTZ[]", None),
        ColumnKind::Timestamp => ("TIMESTAMP[]", None),
        ColumnKind::Date => ("DATE[]", None),
        ColumnKind::Time => ("TIME[]", None),
        ColumnKind::Decimal | ColumnKind::FixedDecimal { .. } => ("TEXT[]", Some("NUMERIC")),
        ColumnKind::Text => ("TEXT[]", None),
    }
}

impl SqlDialect for PostgresSql {
    const DIALECT: Dialect = Dialect::Postgres;
    const NAME: &'static str = "postgres";

    /// Text under the `"C"` collation (bytes; the database's default may be
    /// a language's) except for equality, which every deterministic
    /// collation decides by bytes and which may then use the column's
    /// index; an unconstrained `NUMERIC` with its scale after its value
    /// (PostgreSQL holds `1.0` and `1.00` equal).
    fn query_operand(column: &str, kind: ColumnKind, op: CompareOp) -> String {
        match kind {
            ColumnKind::Text if op != CompareOp::Eq => format!("{column} COLLATE \"C\""),
            ColumnKind::Decimal => format!("({column}, scale({column}))"),
            _ => column.to_owned(),
        }
    }

    fn query_parameter(placeholder: &str, kind: ColumnKind) -> String {
        match kind {
            ColumnKind::Decimal => {
                format!("({placeholder}::NUMERIC, scale({placeholder}::NUMERIC))")
            }
            _ => placeholder.to_owned(),
        }
    }

    /// `NULL` is PostgreSQL's largest value: `NULLS FIRST`/`NULLS LAST`
    /// spelled out for a nullable column (only there: PostgreSQL sorts
    /// slower with a `NULLS` clause that is not its default); text by
    /// bytes, decimals by value then scale.
    fn query_order(column: &str, kind: ColumnKind, nullable: bool, descending: bool) -> String {
        let (direction, nulls) = match (descending, nullable) {
            (true, true) => ("DESC", " NULLS LAST"),
            (false, true) => ("ASC", " NULLS FIRST"),
            (true, false) => ("DESC", ""),
            (false, false) => ("ASC", ""),
        };
        match kind {
            ColumnKind::Text => format!("{column} COLLATE \"C\" {direction}{nulls}"),
            ColumnKind::Decimal => {
                format!("{column} {direction}{nulls}, scale({column}) {direction}")
            }
            _ => format!("{column} {direction}{nulls}"),
        }
    }

    fn quote(ident: &str) -> String {
        format!("\"{}\"", ident.replace('"', "\"\""))
    }

    fn placeholder(n: usize) -> String {
        format!("${n}")
    }

    fn column_type(kind: ColumnKind) -> Cow<'static, str> {
        use ColumnKind::*;
        match kind {
            Bool => "BOOLEAN",
            SmallInt => "SMALLINT",
            Int => "INTEGER",
            BigInt => "BIGINT",
            Real => "REAL",
            Double => "DOUBLE PRECISION",
            Text => "TEXT",
            Bytes => "BYTEA",
            Json => "JSONB",
            Uuid => "UUID",
            TimestampTz => "TIMESTAMPTZ",
            Timestamp => "TIMESTAMP",
            Date => "DATE",
            Time => "TIME",
            Decimal => "NUMERIC",
            FixedDecimal { precision, scale } => {
                return format!("NUMERIC({precision}, {scale})").into();
            }
        }
        .into()
    }

    /// Text ids with a byte-order collation (the database's default
    /// collation may follow the locale).
    fn order_by_id(meta: &AggregateMeta) -> String {
        let id = Self::quote(meta.id_column().name);
        if meta.id_column().kind == ColumnKind::Text {
            format!("{id} COLLATE \"C\"")
        } else {
            id
        }
    }

    fn array_sql(meta: &AggregateMeta) -> Option<ArraySql> {
        Some(arrays(meta))
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

    /// Parameters are cast to the column types: a VALUES list takes its
    /// types from its contents, not from the table.
    fn batch_update(meta: &AggregateMeta, rows: usize) -> String {
        let q = Self::quote;
        let table = q(meta.table);
        let id = q(meta.id_column().name);
        let version = q(meta.version_column().name);
        let others = non_id_columns(meta);
        let kinds: Vec<ColumnKind> = [meta.id_column().kind, ColumnKind::BigInt]
            .into_iter()
            .chain(others.iter().map(|c| c.kind))
            .collect();
        let names: Vec<String> = [id.clone(), q(EXPECTED)]
            .into_iter()
            .chain(others.iter().map(|c| q(c.name)))
            .collect();
        let sets: Vec<String> = others
            .iter()
            .map(|c| format!("{0} = v.{0}", q(c.name)))
            .collect();
        format!(
            "UPDATE {table} AS t SET {} FROM (VALUES {}) AS v ({}) WHERE t.{id} = v.{id} AND t.{version} = v.{}",
            sets.join(", "),
            values_list::<Self>(rows, kinds.len(), |i| Some(
                Self::column_type(kinds[i]).into_owned()
            )),
            names.join(", "),
            q(EXPECTED)
        )
    }

    fn incompatible(kind: ColumnKind, key: bool, found: &ExistingColumn) -> Option<String> {
        use ColumnKind::*;
        let ty = found.ty.as_str();
        let accepted: &[&str] = match kind {
            Bool => &["boolean"],
            SmallInt => &["smallint"],
            Int => &["integer"],
            BigInt => &["bigint"],
            Real => &["real"],
            Double => &["double precision"],
            Text => &["text", "character varying", "character"],
            Bytes => &["bytea"],
            Json => &["jsonb", "json"],
            Uuid => &["uuid"],
            TimestampTz => &["timestamp with time zone"],
            Timestamp => &["timestamp without time zone"],
            Date => &["date"],
            Time => &["time without time zone"],
            Decimal => &["numeric"],
            FixedDecimal { precision, scale } => {
                return fixed_decimal_mismatch("numeric", precision, scale, found);
            }
        };
        if !accepted.contains(&ty) {
            return Some(String::new());
        }
        match kind {
            Text if ty == "character" => {
                Some("CHAR(n) pads values with spaces; use TEXT or VARCHAR".to_owned())
            }
            Text if ty == "character varying" => text_length(key, found.length),
            Decimal if found.precision.is_some() => Some(
                "NUMERIC(p, s) rounds values to its scale; uow stores every Decimal exactly in NUMERIC without precision"
                    .to_owned(),
            ),
            Bool | SmallInt | Int | BigInt | Real | Double | Text | Bytes | Json | Uuid
            | TimestampTz | Timestamp | Date | Time | Decimal | FixedDecimal { .. } => None,
        }
    }

    /// Ordered byte-wise, as the ids' text sorts by time.
    fn marker_key_type() -> Cow<'static, str> {
        "TEXT COLLATE \"C\"".into()
    }

    /// A data-modifying CTE: the marker is inserted once per row the
    /// update returns, so only when the version check matched. A fenced
    /// unit (its marker's id taken by an outcome check) fails the whole
    /// statement with a duplicate key, and the update is undone with it.
    fn marked_update(update: &str, unit: usize) -> Option<String> {
        let q = Self::quote;
        Some(format!(
            "WITH changed AS ({update} RETURNING 1) INSERT INTO {} ({}, {}) SELECT {}, 0 FROM changed",
            q(crate::commit_marker::COMMITS_TABLE),
            q("unit_id"),
            q("fenced"),
            Self::placeholder(unit),
        ))
    }

    const OUTBOX_TYPES: OutboxTypes = OutboxTypes {
        seq: "BIGSERIAL PRIMARY KEY",
        key: "VARCHAR(255)",
        text: "TEXT",
        json: "TEXT",
        big: "BIGINT",
        int: "INTEGER",
    };
}

/// PostgreSQL's array statements of `meta`.
fn arrays(meta: &AggregateMeta) -> ArraySql {
    let q = PostgresSql::quote;
    let table = q(meta.table);
    let id = q(meta.id_column().name);
    let version = q(meta.version_column().name);
    // `$n::T[]`, and the element `u.cn`, cast where needed.
    let parameter = |n: usize, kind: ColumnKind| format!("${n}::{}", array_type(kind).0);
    let element = |n: usize, kind: ColumnKind| match array_type(kind).1 {
        Some(cast) => format!("u.c{n}::{cast}"),
        None => format!("u.c{n}"),
    };
    let aliases = |count: usize| {
        (1..=count)
            .map(|n| format!("c{n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };

    let columns: Vec<String> = meta.columns.iter().map(|c| q(c.name)).collect();
    let kinds: Vec<ColumnKind> = meta.columns.iter().map(|c| c.kind).collect();
    let insert = format!(
        "INSERT INTO {table} ({}) SELECT {} FROM UNNEST({}) AS u ({})",
        columns.join(", "),
        (1..=kinds.len())
            .map(|n| element(n, kinds[n - 1]))
            .collect::<Vec<_>>()
            .join(", "),
        (1..=kinds.len())
            .map(|n| parameter(n, kinds[n - 1]))
            .collect::<Vec<_>>()
            .join(", "),
        aliases(kinds.len()),
    );

    // Update arrays: id, expected version, then the non-id columns.
    let id_kind = meta.id_column().kind;
    let others = non_id_columns(meta);
    let update_kinds: Vec<ColumnKind> = [id_kind, ColumnKind::BigInt]
        .into_iter()
        .chain(others.iter().map(|c| c.kind))
        .collect();
    let sets: Vec<String> = others
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{} = {}", q(c.name), element(i + 3, c.kind)))
        .collect();
    let update = format!(
        "UPDATE {table} AS t SET {} FROM UNNEST({}) AS u ({}) WHERE t.{id} = {} AND t.{version} = u.c2",
        sets.join(", "),
        (1..=update_kinds.len())
            .map(|n| parameter(n, update_kinds[n - 1]))
            .collect::<Vec<_>>()
            .join(", "),
        aliases(update_kinds.len()),
        element(1, id_kind),
    );

    ArraySql {
        insert: sql(insert),
        update: sql(update),
    }
}
