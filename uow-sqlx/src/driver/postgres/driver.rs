//! The PostgreSQL driver: native types for every kind (JSONB, UUID,
//! TIMESTAMPTZ, NUMERIC...), NULLs bound with their column's type, array
//! batches; a unit of work in one transaction from `BEGIN ISOLATION LEVEL`
//! (with its `SET LOCAL` timeouts) to `COMMIT`.

use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;

use sqlx::postgres::{PgArguments, PgConnectOptions, PgPoolOptions, PgRow, PgValueRef};
use sqlx::types::chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use sqlx::types::{Decimal, JsonRawValue, Uuid};
use sqlx::{Arguments, Postgres, Row, ValueRef};
use uow_core::{
    Error, ValueError, ValueErrorKind,
    backend::{AggregateMeta, ColumnKind, Value},
};

use super::PostgresSql;
use crate::driver::chrono_values as cv;
use crate::driver::{Driver, Failure, StalePlans, Stmt, decode_raw};
use crate::existing::{ExistingColumn, ExistingIndex, ExistingTable};
use crate::options::StoreOptions;

/// The PostgreSQL driver.
pub(crate) struct PostgresDriver;

/// A NUMERIC zero with its scale (`0.00`), in NUMERIC's binary form:
/// no digits, weight 0, sign positive, then the display scale.
struct NumericZero(u16);

impl sqlx::Type<Postgres> for NumericZero {
    fn type_info() -> sqlx::postgres::PgTypeInfo {
        <Decimal as sqlx::Type<Postgres>>::type_info()
    }
}

impl sqlx::Encode<'_, Postgres> for NumericZero {
    fn encode_by_ref(
        &self,
        buf: &mut sqlx::postgres::PgArgumentBuffer,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        buf.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        buf.extend_from_slice(&self.0.to_be_bytes());
        Ok(sqlx::encode::IsNull::No)
    }
}

fn bind_null(stmt: Stmt<PostgresDriver>, kind: ColumnKind) -> Stmt<PostgresDriver> {
    match kind {
        ColumnKind::Bool => stmt.bind(None::<bool>),
        ColumnKind::SmallInt => stmt.bind(None::<i16>),
        ColumnKind::Int => stmt.bind(None::<i32>),
        ColumnKind::BigInt => stmt.bind(None::<i64>),
        ColumnKind::Real => stmt.bind(None::<f32>),
        ColumnKind::Double => stmt.bind(None::<f64>),
        ColumnKind::Bytes => stmt.bind(None::<Vec<u8>>),
        ColumnKind::Json => stmt.bind(None::<Box<JsonRawValue>>),
        ColumnKind::Uuid => stmt.bind(None::<Uuid>),
        ColumnKind::TimestampTz => stmt.bind(None::<DateTime<Utc>>),
        ColumnKind::Timestamp => stmt.bind(None::<NaiveDateTime>),
        ColumnKind::Date => stmt.bind(None::<NaiveDate>),
        ColumnKind::Time => stmt.bind(None::<NaiveTime>),
        ColumnKind::Decimal | ColumnKind::FixedDecimal { .. } => stmt.bind(None::<Decimal>),
        ColumnKind::Text => stmt.bind(None::<String>),
    }
}

impl Driver for PostgresDriver {
    type Db = Postgres;
    type Sql = PostgresSql;
    const SCHEMES: &'static [&'static str] = &["postgres", "postgresql"];
    const MAX_PARAMETERS: usize = 65_535;
    const FAILURE_ABORTS_TRANSACTION: bool = true;

    fn connect(
        url: &str,
        options: &StoreOptions,
        stale_plans: Arc<StalePlans>,
    ) -> impl Future<Output = Result<sqlx::PgPool, sqlx::Error>> + Send {
        connect(url, options, stale_plans)
    }

    /// From `begin` at REPEATABLE READ and SERIALIZABLE, and wherever a lock
    /// or statement timeout is set: they are `SET LOCAL` in the transaction
    /// (so queries of your own on the pool are not limited), which the reads
    /// must run in to be limited too.
    fn transaction_from_begin(options: &StoreOptions, _set_up: bool) -> bool {
        options.isolation != crate::Isolation::ReadCommitted
            || options.lock_timeout.is_some()
            || options.statement_timeout.is_some()
    }

    /// `BEGIN ISOLATION LEVEL …`, and the `SET LOCAL` of the lock and
    /// statement timeouts in the same message (no extra round trip; queries
    /// of your own on the pool are not limited).
    /// A read-only unit of work: `BEGIN ISOLATION LEVEL … READ ONLY`.
    fn begin_statement(options: &StoreOptions, _set_up: bool, read_only: bool) -> Option<String> {
        let mode = if read_only { " READ ONLY" } else { "" };
        let begin = format!("BEGIN ISOLATION LEVEL {}{mode}", options.isolation.sql());
        let settings: Vec<String> = [
            ("lock_timeout", options.lock_timeout),
            ("statement_timeout", options.statement_timeout),
        ]
        .into_iter()
        .filter_map(|(name, limit)| {
            limit.map(|t| format!("SET LOCAL {name} = '{}ms'", t.as_millis().max(1)))
        })
        .collect();
        Some(if settings.is_empty() {
            begin
        } else {
            format!("{begin}; {}", settings.join("; "))
        })
    }

    fn is_stale_plan(error: &Error) -> bool {
        matches!(error, Error::Backend(b)
            if b.source.to_string().contains("cached plan must not change result type"))
    }

    fn table(
        pool: &sqlx::PgPool,
        table: &str,
    ) -> impl Future<Output = Result<ExistingTable, sqlx::Error>> + Send {
        read_table(pool, table)
    }

    fn rows_affected(result: &<Self::Db as sqlx::Database>::QueryResult) -> u64 {
        result.rows_affected()
    }

    fn bind(stmt: Stmt<Self>, value: Value, kind: ColumnKind) -> Result<Stmt<Self>, ValueError> {
        let narrow =
            |v: i64, width: &str| ValueError::new(format!("{v} does not fit a {width} column"));
        Ok(match value {
            Value::Null => bind_null(stmt, kind),
            Value::Bool(v) => stmt.bind(v),
            Value::Int(v) => match kind {
                ColumnKind::SmallInt => {
                    stmt.bind(i16::try_from(v).map_err(|_| narrow(v, "SMALLINT"))?)
                }
                ColumnKind::Int => stmt.bind(i32::try_from(v).map_err(|_| narrow(v, "INTEGER"))?),
                // A BIGINT column, or an integer where the column holds
                // another kind: the database judges it.
                ColumnKind::BigInt
                | ColumnKind::Bool
                | ColumnKind::Real
                | ColumnKind::Double
                | ColumnKind::Text
                | ColumnKind::Bytes
                | ColumnKind::Json
                | ColumnKind::Uuid
                | ColumnKind::TimestampTz
                | ColumnKind::Timestamp
                | ColumnKind::Date
                | ColumnKind::Time
                | ColumnKind::Decimal
                | ColumnKind::FixedDecimal { .. } => stmt.bind(v),
            },
            Value::Float(v) if kind == ColumnKind::Real => stmt.bind(v as f32),
            Value::Float(v) => stmt.bind(v),
            Value::Text(v) => stmt.bind(v),
            Value::Bytes(v) => stmt.bind(v),
            Value::Json(v) => stmt.bind(
                JsonRawValue::from_string(v)
                    .map_err(|e| ValueError::new(format!("not a JSON document: {e}")))?,
            ),
            Value::Uuid(v) => stmt.bind(Uuid::from_bytes(v)),
            Value::Timestamp(v) => {
                let t = cv::timestamp(v)
                    .ok_or_else(|| ValueError::new(format!("timestamp {v}µs is out of range")))?;
                if kind == ColumnKind::TimestampTz {
                    stmt.bind(t.and_utc())
                } else {
                    stmt.bind(t)
                }
            }
            Value::Date(v) => stmt.bind(
                cv::date(v).ok_or_else(|| ValueError::new(format!("day {v} is out of range")))?,
            ),
            Value::Time(v) => stmt.bind(
                cv::time(v)
                    .ok_or_else(|| ValueError::new(format!("time {v}µs is out of range")))?,
            ),
            Value::Decimal(v) => {
                let decimal = v
                    .parse::<Decimal>()
                    .map_err(|e| ValueError::new(format!("`{v}` is not a decimal: {e}")))?;
                if decimal.is_zero() {
                    // sqlx sends every zero as `0`, without its scale.
                    stmt.bind(NumericZero(decimal.scale() as u16))
                } else {
                    stmt.bind(decimal)
                }
            }
        })
    }

    fn bind_array<'v>(
        args: &mut PgArguments,
        values: impl Iterator<Item = &'v Value>,
        kind: ColumnKind,
    ) -> Option<()> {
        // One element per row, NULL for `Value::Null`; `None` for a value
        // the array type cannot hold.
        fn elements<'v, T>(
            values: impl Iterator<Item = &'v Value>,
            convert: impl Fn(Element<'v>) -> Option<T>,
        ) -> Option<Vec<Option<T>>> {
            values
                .map(|v| match Element::of(v) {
                    Element::Null => Some(None),
                    element => convert(element).map(Some),
                })
                .collect()
        }
        // The element types follow `super::array_type`.
        let added = match kind {
            ColumnKind::Bool => args.add(elements(values, |e| match e {
                Element::Bool(b) => Some(b),
                _ => None,
            })?),
            ColumnKind::SmallInt | ColumnKind::Int | ColumnKind::BigInt => {
                args.add(elements(values, |e| match e {
                    Element::Int(i) => Some(i),
                    _ => None,
                })?)
            }
            ColumnKind::Real | ColumnKind::Double => args.add(elements(values, |e| match e {
                Element::Float(f) => Some(f),
                _ => None,
            })?),
            ColumnKind::Bytes => args.add(elements(values, |e| match e {
                Element::Bytes(b) => Some(b),
                _ => None,
            })?),
            ColumnKind::Uuid => args.add(elements(values, |e| match e {
                Element::Uuid(b) => Some(Uuid::from_bytes(b)),
                _ => None,
            })?),
            ColumnKind::TimestampTz => args.add(elements(values, |e| match e {
                Element::Timestamp(t) => cv::timestamp(t).map(|t| t.and_utc()),
                _ => None,
            })?),
            ColumnKind::Timestamp => args.add(elements(values, |e| match e {
                Element::Timestamp(t) => cv::timestamp(t),
                _ => None,
            })?),
            ColumnKind::Date => args.add(elements(values, |e| match e {
                Element::Date(d) => cv::date(d),
                _ => None,
            })?),
            ColumnKind::Time => args.add(elements(values, |e| match e {
                Element::Time(t) => cv::time(t),
                _ => None,
            })?),
            // Text, and JSON and decimals as their text (cast in the SQL).
            ColumnKind::Text
            | ColumnKind::Json
            | ColumnKind::Decimal
            | ColumnKind::FixedDecimal { .. } => args.add(elements(values, |e| match e {
                // Borrowed: encoded into the message where it is.
                Element::Text(t) => Some(t),
                _ => None,
            })?),
        };
        added.ok()
    }

    fn get(row: &PgRow, index: usize, kind: ColumnKind) -> Result<Value, ValueError> {
        // The raw value is taken once: to tell NULL apart, then decoded.
        let raw = row.try_get_raw(index).map_err(driver)?;
        if raw.is_null() {
            return Ok(Value::Null);
        }
        Ok(match kind {
            ColumnKind::Bool => Value::Bool(read(raw, index)?),
            ColumnKind::SmallInt => Value::Int(read::<i16>(raw, index)?.into()),
            ColumnKind::Int => Value::Int(read::<i32>(raw, index)?.into()),
            ColumnKind::BigInt => Value::Int(read(raw, index)?),
            ColumnKind::Real => Value::Float(read::<f32>(raw, index)?.into()),
            ColumnKind::Double => Value::Float(read(raw, index)?),
            ColumnKind::Bytes => Value::Bytes(read(raw, index)?),
            ColumnKind::Json => {
                let json: Box<JsonRawValue> = read(raw, index)?;
                Value::Json(json.get().to_owned())
            }
            ColumnKind::Uuid => Value::Uuid(read::<Uuid>(raw, index)?.into_bytes()),
            ColumnKind::TimestampTz => {
                Value::Timestamp(read::<DateTime<Utc>>(raw, index)?.timestamp_micros())
            }
            ColumnKind::Timestamp => Value::Timestamp(
                read::<NaiveDateTime>(raw, index)?
                    .and_utc()
                    .timestamp_micros(),
            ),
            ColumnKind::Date => Value::Date(cv::days(read(raw, index)?)?),
            ColumnKind::Time => Value::Time(cv::micros_of_day(read(raw, index)?)),
            ColumnKind::Decimal | ColumnKind::FixedDecimal { .. } => {
                // sqlx drops the scale of a zero (`0.00` reads as `0`): the
                // scale is the column value's display scale, read from the
                // binary NUMERIC (ndigits, weight, sign, dscale: 16 bits each).
                let scale = match raw.as_bytes() {
                    Ok(&[_, _, _, _, _, _, hi, lo, ..]) => {
                        Some(u32::from(u16::from_be_bytes([hi, lo])))
                    }
                    _ => None,
                };
                let mut decimal = read::<Decimal>(raw, index)?;
                if let Some(scale) = scale {
                    if scale != decimal.scale() {
                        decimal.rescale(scale);
                    }
                    if decimal.scale() != scale {
                        return Err(ValueError::new(format!(
                            "the stored decimal has {scale} digits after the point; a Decimal holds at most 28"
                        )));
                    }
                }
                Value::Decimal(decimal.to_string())
            }
            ColumnKind::Text => Value::Text(read(raw, index)?),
        })
    }

    fn classify(error: &sqlx::Error) -> Failure {
        let sqlx::Error::Database(db) = error else {
            return Failure::Other;
        };
        match db.code().as_deref() {
            Some("23505") => Failure::Unique,
            // serialization_failure, deadlock_detected.
            Some("40001" | "40P01") => Failure::Contention,
            // lock_not_available (lock_timeout), query_canceled (statement_timeout).
            Some("55P03") => Failure::LockTimeout,
            Some("57014") => Failure::StatementTimeout,
            // admin_shutdown (pg_terminate_backend, a restart), crash_shutdown,
            // cannot_connect_now, and class 08: connection exceptions.
            Some("57P01" | "57P02" | "57P03") => Failure::Connection,
            Some(code) if code.starts_with("08") => Failure::Connection,
            Some("0A000")
                if db
                    .message()
                    .contains("cached plan must not change result type") =>
            {
                Failure::CachedPlan
            }
            _ => Failure::Other,
        }
    }

    fn unique_column(error: &sqlx::Error, meta: &AggregateMeta) -> Option<String> {
        let sqlx::Error::Database(db) = error else {
            return None;
        };
        // "Key (idempotency_key)=(…) already exists.": the column, whatever
        // the constraint is called (a migration may name it anything).
        let detail = db
            .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
            .and_then(|e| e.detail());
        if let Some(column) = detail
            .and_then(|d| d.strip_prefix("Key ("))
            .and_then(|d| d.split_once(")=("))
            .map(|(column, _)| column.trim_matches('"'))
            .and_then(|c| meta.column_index(c))
        {
            return Some(meta.columns[column].name.to_owned());
        }
        // Else by the name uow gives it: "<table>_pkey" or
        // "<table>_<column>_key".
        let constraint = db.constraint()?;
        let column = constraint
            .strip_prefix(meta.table)
            .and_then(|rest| rest.strip_prefix('_'))
            .and_then(|rest| rest.strip_suffix("_key"))
            .filter(|c| meta.column_index(c).is_some());
        Some(column.unwrap_or(meta.id_column().name).to_owned())
    }
}

/// A value as an element of an array parameter: each [`Value`] variant
/// placed, exhaustively, with the element it travels as (JSON and decimals
/// as their text).
#[derive(Clone, Copy)]
enum Element<'v> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Bytes(&'v [u8]),
    Uuid([u8; 16]),
    Timestamp(i64),
    Date(i32),
    Time(i64),
    Text(&'v str),
}

impl<'v> Element<'v> {
    fn of(value: &'v Value) -> Self {
        match value {
            Value::Null => Element::Null,
            Value::Bool(b) => Element::Bool(*b),
            Value::Int(i) => Element::Int(*i),
            Value::Float(f) => Element::Float(*f),
            Value::Bytes(b) => Element::Bytes(b),
            Value::Uuid(u) => Element::Uuid(*u),
            Value::Timestamp(t) => Element::Timestamp(*t),
            Value::Date(d) => Element::Date(*d),
            Value::Time(t) => Element::Time(*t),
            Value::Text(t) | Value::Json(t) | Value::Decimal(t) => Element::Text(t),
        }
    }
}

/// Decodes the raw value of column `index` (see [`decode_raw`]).
fn read<'r, T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>>(
    raw: PgValueRef<'r>,
    index: usize,
) -> Result<T, ValueError> {
    decode_raw::<Postgres, T>(raw, index).map_err(driver)
}

fn driver(e: sqlx::Error) -> ValueError {
    ValueError::with_kind(ValueErrorKind::Driver, "the driver cannot read the value").caused_by(e)
}

/// Reads the columns and indexes of `table` in the current schema on
/// PostgreSQL.
async fn read_table(pool: &sqlx::PgPool, table: &str) -> Result<ExistingTable, sqlx::Error> {
    type Row = (
        String,
        String,
        String,
        bool,
        Option<i32>,
        Option<i32>,
        Option<i32>,
        Option<String>,
        Option<bool>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT c.column_name::text, c.data_type::text, c.is_nullable::text, \
                (c.column_default IS NOT NULL OR c.is_identity = 'YES' OR c.is_generated <> 'NEVER'), \
                c.character_maximum_length::int4, c.numeric_precision::int4, c.numeric_scale::int4, \
                coll.collname::text, coll.collisdeterministic \
         FROM information_schema.columns c \
         JOIN pg_catalog.pg_namespace n ON n.nspname = c.table_schema \
         JOIN pg_catalog.pg_class t ON t.relnamespace = n.oid AND t.relname = c.table_name \
         JOIN pg_catalog.pg_attribute a ON a.attrelid = t.oid AND a.attname = c.column_name \
         LEFT JOIN pg_catalog.pg_collation coll ON coll.oid = a.attcollation \
         WHERE c.table_schema = current_schema() AND c.table_name = $1 \
         ORDER BY c.ordinal_position",
    )
    .bind(table)
    .fetch_all(pool)
    .await?;
    let columns = rows
        .into_iter()
        .map(
            |(
                name,
                ty,
                nullable,
                has_default,
                length,
                precision,
                scale,
                collation,
                deterministic,
            )| {
                ExistingColumn {
                    name,
                    precision: if ty == "numeric" {
                        precision.map(i64::from)
                    } else {
                        None
                    },
                    scale: scale.map(i64::from),
                    ty,
                    nullable: nullable.eq_ignore_ascii_case("yes"),
                    has_default,
                    length: length.map(i64::from),
                    comparison: (deterministic == Some(false)).then(|| {
                        format!(
                            "its collation {} is not deterministic: equal keys may differ",
                            collation.unwrap_or_default()
                        )
                    }),
                }
            },
        )
        .collect();
    let indexes: Vec<(String, bool, bool, bool, String)> = sqlx::query_as(
        "SELECT ic.relname::text, i.indisunique, i.indisprimary, \
                (i.indpred IS NOT NULL OR i.indexprs IS NOT NULL), \
                COALESCE((SELECT string_agg(a.attname::text, ',' ORDER BY k.ord) \
                  FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) \
                  JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum \
                  WHERE k.ord <= i.indnkeyatts), '') \
         FROM pg_catalog.pg_index i \
         JOIN pg_catalog.pg_class t ON t.oid = i.indrelid \
         JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid \
         JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace \
         WHERE n.nspname = current_schema() AND t.relname = $1",
    )
    .bind(table)
    .fetch_all(pool)
    .await?;
    let indexes = indexes
        .into_iter()
        .map(|(name, unique, primary, partial, columns)| ExistingIndex {
            name,
            columns: columns
                .split(',')
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .collect(),
            unique,
            primary,
            partial,
        })
        .collect();
    Ok(ExistingTable { columns, indexes })
}

/// The pool of `connect_with` for a `postgres:` URL: connections opened
/// before a stale cached plan was reported are replaced when next acquired.
async fn connect(
    url: &str,
    options: &StoreOptions,
    stale_plans: Arc<StalePlans>,
) -> Result<sqlx::PgPool, sqlx::Error> {
    let connect = PgConnectOptions::from_str(url)?;
    let plans = stale_plans;
    PgPoolOptions::new()
        .max_connections(options.max_connections)
        .acquire_timeout(options.acquire_timeout)
        .test_before_acquire(false)
        .before_acquire(move |_, meta| {
            let fresh = !plans.is_stale(meta.age);
            Box::pin(async move { Ok(fresh) })
        })
        .connect_with(connect)
        .await
}
