//! The column-value vocabulary shared by every store.
//!
//! An aggregate is stored as one row: a list of [`Value`]s in the order of its
//! [`AggregateMeta::columns`](crate::AggregateMeta::columns). Each field type
//! says how it maps to a value through [`ColumnValue`]; backends only ever see
//! `Value`s and [`ColumnKind`]s, never the domain types, which is what lets the
//! same derive serve the in-memory store and every SQL dialect.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

/// The storage kind of a column: what a backend creates it as and decodes it
/// from. Each dialect maps a kind to one SQL type (see `uow-sqlx`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ColumnKind {
    /// `bool`.
    Bool,
    /// 16-bit integer (`i8`, `i16`, `u8`).
    SmallInt,
    /// 32-bit integer (`i32`, `u16`).
    Int,
    /// 64-bit integer (`i64`, `u32`, `u64` up to `i64::MAX`, `isize`, `usize`).
    BigInt,
    /// 32-bit float.
    Real,
    /// 64-bit float.
    Double,
    /// UTF-8 text.
    Text,
    /// Raw bytes.
    Bytes,
    /// A JSON document (`#[aggregate(json)]`).
    Json,
    /// A UUID.
    Uuid,
    /// A point in time, stored in UTC with microsecond precision.
    TimestampTz,
    /// A date and time without a time zone, microsecond precision.
    Timestamp,
    /// A calendar date.
    Date,
    /// A time of day, microsecond precision.
    Time,
    /// An exact decimal number.
    Decimal,
}

impl ColumnKind {
    /// A short name for messages (`"bigint"`, `"text"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            ColumnKind::Bool => "bool",
            ColumnKind::SmallInt => "smallint",
            ColumnKind::Int => "int",
            ColumnKind::BigInt => "bigint",
            ColumnKind::Real => "real",
            ColumnKind::Double => "double",
            ColumnKind::Text => "text",
            ColumnKind::Bytes => "bytes",
            ColumnKind::Json => "json",
            ColumnKind::Uuid => "uuid",
            ColumnKind::TimestampTz => "timestamptz",
            ColumnKind::Timestamp => "timestamp",
            ColumnKind::Date => "date",
            ColumnKind::Time => "time",
            ColumnKind::Decimal => "decimal",
        }
    }
}

/// One stored value. Backends bind these as parameters and decode rows into
/// them; the in-memory store keeps them as its rows.
///
/// Equality, ordering and hashing are total (floats compare by
/// [`f64::total_cmp`]), so values can key maps and order ids the way the SQL
/// backends order them: integers numerically, text and bytes bytewise.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Value {
    /// SQL `NULL` (`Option::None`).
    Null,
    /// A boolean.
    Bool(bool),
    /// Any integer kind.
    Int(i64),
    /// Any float kind.
    Float(f64),
    /// Text.
    Text(String),
    /// Bytes.
    Bytes(Vec<u8>),
    /// A serialized JSON document.
    Json(String),
    /// A UUID, big-endian bytes.
    Uuid([u8; 16]),
    /// Microseconds since 1970-01-01T00:00:00 (UTC for [`ColumnKind::TimestampTz`]).
    Timestamp(i64),
    /// Days since 1970-01-01.
    Date(i32),
    /// Microseconds since midnight.
    Time(i64),
    /// A decimal number in its canonical text form (`"-12.50"`).
    Decimal(String),
}

impl Value {
    fn rank(&self) -> u8 {
        match self {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Int(_) => 2,
            Value::Float(_) => 3,
            Value::Text(_) => 4,
            Value::Bytes(_) => 5,
            Value::Json(_) => 6,
            Value::Uuid(_) => 7,
            Value::Timestamp(_) => 8,
            Value::Date(_) => 9,
            Value::Time(_) => 10,
            Value::Decimal(_) => 11,
        }
    }

    /// `true` for [`Value::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The variant's name, for error messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) => "integer",
            Value::Float(_) => "float",
            Value::Text(_) => "text",
            Value::Bytes(_) => "bytes",
            Value::Json(_) => "json",
            Value::Uuid(_) => "uuid",
            Value::Timestamp(_) => "timestamp",
            Value::Date(_) => "date",
            Value::Time(_) => "time",
            Value::Decimal(_) => "decimal",
        }
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Value {}

impl PartialOrd for Value {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Value {
    fn cmp(&self, other: &Self) -> Ordering {
        use Value::*;
        match (self, other) {
            (Null, Null) => Ordering::Equal,
            (Bool(a), Bool(b)) => a.cmp(b),
            (Int(a), Int(b)) => a.cmp(b),
            (Float(a), Float(b)) => a.total_cmp(b),
            (Text(a), Text(b)) | (Json(a), Json(b)) | (Decimal(a), Decimal(b)) => {
                a.as_bytes().cmp(b.as_bytes())
            }
            (Bytes(a), Bytes(b)) => a.cmp(b),
            (Uuid(a), Uuid(b)) => a.cmp(b),
            (Timestamp(a), Timestamp(b)) | (Time(a), Time(b)) => a.cmp(b),
            (Date(a), Date(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl Hash for Value {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.rank().hash(state);
        match self {
            Value::Null => {}
            Value::Bool(v) => v.hash(state),
            Value::Int(v) | Value::Timestamp(v) | Value::Time(v) => v.hash(state),
            Value::Float(v) => v.to_bits().hash(state),
            Value::Text(v) | Value::Json(v) | Value::Decimal(v) => v.hash(state),
            Value::Bytes(v) => v.hash(state),
            Value::Uuid(v) => v.hash(state),
            Value::Date(v) => v.hash(state),
        }
    }
}

/// Shows the value the way ids appear in error messages: text as is, numbers
/// in decimal, bytes and UUIDs in hex.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("NULL"),
            Value::Bool(v) => write!(f, "{v}"),
            Value::Int(v) => write!(f, "{v}"),
            Value::Float(v) => write!(f, "{v}"),
            Value::Text(v) | Value::Json(v) | Value::Decimal(v) => f.write_str(v),
            Value::Bytes(v) => {
                f.write_str("0x")?;
                v.iter().try_for_each(|b| write!(f, "{b:02x}"))
            }
            Value::Uuid(b) => write!(f, "{}", format_uuid(b)),
            Value::Timestamp(v) => write!(f, "{v}µs"),
            Value::Date(v) => write!(f, "day {v}"),
            Value::Time(v) => write!(f, "{v}µs after midnight"),
        }
    }
}

/// The hyphenated lower-case form of a UUID (`67e55044-10b1-426f-9247-bb680e5fe0c8`).
pub fn format_uuid(bytes: &[u8; 16]) -> String {
    let mut s = String::with_capacity(36);
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        s.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
        s.push(char::from_digit(u32::from(b & 0xf), 16).unwrap_or('0'));
    }
    s
}

/// Parses the hyphenated (or plain 32-digit) form of a UUID.
pub fn parse_uuid(text: &str) -> Option<[u8; 16]> {
    let digits: Vec<u8> = text.bytes().filter(|b| *b != b'-').collect();
    if digits.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, pair) in digits.chunks(2).enumerate() {
        let hi = (pair[0] as char).to_digit(16)?;
        let lo = (pair[1] as char).to_digit(16)?;
        out[i] = (hi * 16 + lo) as u8;
    }
    Some(out)
}

/// Why a value could not be converted to or from a field's type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueError {
    message: String,
}

impl ValueError {
    /// A conversion error with a message saying what was wrong.
    pub fn new(message: impl Into<String>) -> Self {
        ValueError {
            message: message.into(),
        }
    }

    /// The stored value had another kind than the field expects.
    pub fn unexpected(expected: &str, found: &Value) -> Self {
        if found.is_null() {
            ValueError::new(format!(
                "found NULL where the field is not an Option (expected {expected}); make the field an Option or fill the column"
            ))
        } else {
            ValueError::new(format!("expected {expected}, found {}", found.kind_name()))
        }
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ValueError {}

/// A type that is stored in one column.
///
/// Implemented for the integers, floats, `bool`, `String`, `Vec<u8>`,
/// `Option<T>`, and (behind features) `uuid`, `chrono`, `time` and
/// `rust_decimal` types. A newtype value object gets it from
/// `#[derive(ColumnValue)]`; a type that needs several columns or a nested
/// structure is stored as a JSON document with `#[aggregate(json)]` instead.
///
/// ```
/// use uow_core::{ColumnValue, ColumnKind, Value};
/// assert_eq!(<String as ColumnValue>::KIND, ColumnKind::Text);
/// assert_eq!(7u32.to_value().unwrap(), Value::Int(7));
/// assert_eq!(<Option<i32>>::from_value(Value::Null).unwrap(), None);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no column mapping",
    label = "this type cannot be stored in one column",
    note = "store it as one JSON document with `#[aggregate(json)]` on the field (the type must implement serde's `Serialize` and `Deserialize`); or, for a newtype value object, add `#[derive(ColumnValue)]` to it; or implement `uow_core::ColumnValue` for it"
)]
pub trait ColumnValue: Sized {
    /// The storage kind of the column.
    const KIND: ColumnKind;
    /// Whether the column admits NULL (only `Option<T>`).
    const NULLABLE: bool = false;
    /// Converts to the stored value; fails for values the column cannot hold
    /// (a `u64` above `i64::MAX`).
    fn to_value(&self) -> Result<Value, ValueError>;
    /// Converts back from the stored value.
    fn from_value(value: Value) -> Result<Self, ValueError>;
}

/// A value a finder can look up by: every [`ColumnValue`], and `str` and
/// `[u8]` so that `find_by_category("chairs")` needs no allocation by the caller.
pub trait Key {
    /// The stored value to compare with.
    fn key_value(&self) -> Result<Value, ValueError>;
}

impl<T: ColumnValue> Key for T {
    fn key_value(&self) -> Result<Value, ValueError> {
        self.to_value()
    }
}

impl Key for str {
    fn key_value(&self) -> Result<Value, ValueError> {
        Ok(Value::Text(self.to_owned()))
    }
}

impl Key for [u8] {
    fn key_value(&self) -> Result<Value, ValueError> {
        Ok(Value::Bytes(self.to_owned()))
    }
}

macro_rules! int_column {
    ($($ty:ty => $kind:ident),* $(,)?) => {$(
        impl ColumnValue for $ty {
            const KIND: ColumnKind = ColumnKind::$kind;
            fn to_value(&self) -> Result<Value, ValueError> {
                i64::try_from(*self).map(Value::Int).map_err(|_| {
                    ValueError::new(format!(
                        "{} does not fit in a signed 64-bit column", self
                    ))
                })
            }
            fn from_value(value: Value) -> Result<Self, ValueError> {
                match value {
                    Value::Int(v) => <$ty>::try_from(v).map_err(|_| {
                        ValueError::new(format!(
                            "{} is out of range for {}", v, stringify!($ty)
                        ))
                    }),
                    other => Err(ValueError::unexpected("integer", &other)),
                }
            }
        }
    )*};
}

int_column! {
    i8 => SmallInt, i16 => SmallInt, u8 => SmallInt,
    i32 => Int, u16 => Int,
    i64 => BigInt, u32 => BigInt, u64 => BigInt, isize => BigInt, usize => BigInt,
}

impl ColumnValue for bool {
    const KIND: ColumnKind = ColumnKind::Bool;
    fn to_value(&self) -> Result<Value, ValueError> {
        Ok(Value::Bool(*self))
    }
    fn from_value(value: Value) -> Result<Self, ValueError> {
        match value {
            Value::Bool(v) => Ok(v),
            Value::Int(v @ (0 | 1)) => Ok(v == 1),
            other => Err(ValueError::unexpected("bool", &other)),
        }
    }
}

impl ColumnValue for f64 {
    const KIND: ColumnKind = ColumnKind::Double;
    /// `-0.0` is stored as `0.0`, as SQLite and MySQL store it, so that every
    /// store gives back the same value.
    fn to_value(&self) -> Result<Value, ValueError> {
        Ok(Value::Float(positive_zero(*self)))
    }
    fn from_value(value: Value) -> Result<Self, ValueError> {
        match value {
            Value::Float(v) => Ok(v),
            other => Err(ValueError::unexpected("float", &other)),
        }
    }
}

impl ColumnValue for f32 {
    const KIND: ColumnKind = ColumnKind::Real;
    /// `-0.0` is stored as `0.0`, as for `f64`.
    fn to_value(&self) -> Result<Value, ValueError> {
        Ok(Value::Float(positive_zero(f64::from(*self))))
    }
    fn from_value(value: Value) -> Result<Self, ValueError> {
        match value {
            // Every f32 is exactly representable as f64, so this round-trips.
            Value::Float(v) => Ok(v as f32),
            other => Err(ValueError::unexpected("float", &other)),
        }
    }
}

/// `0.0` for both zeros; any other value as it is.
fn positive_zero(v: f64) -> f64 {
    if v == 0.0 { 0.0 } else { v }
}

impl ColumnValue for String {
    const KIND: ColumnKind = ColumnKind::Text;
    fn to_value(&self) -> Result<Value, ValueError> {
        Ok(Value::Text(self.clone()))
    }
    fn from_value(value: Value) -> Result<Self, ValueError> {
        match value {
            Value::Text(v) => Ok(v),
            other => Err(ValueError::unexpected("text", &other)),
        }
    }
}

impl ColumnValue for Vec<u8> {
    const KIND: ColumnKind = ColumnKind::Bytes;
    fn to_value(&self) -> Result<Value, ValueError> {
        Ok(Value::Bytes(self.clone()))
    }
    fn from_value(value: Value) -> Result<Self, ValueError> {
        match value {
            Value::Bytes(v) => Ok(v),
            other => Err(ValueError::unexpected("bytes", &other)),
        }
    }
}

impl<T: ColumnValue> ColumnValue for Option<T> {
    const KIND: ColumnKind = T::KIND;
    const NULLABLE: bool = true;
    fn to_value(&self) -> Result<Value, ValueError> {
        match self {
            Some(v) => v.to_value(),
            None => Ok(Value::Null),
        }
    }
    fn from_value(value: Value) -> Result<Self, ValueError> {
        match value {
            Value::Null => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}

/// Encodes a serde type as a JSON document (`#[aggregate(json)]` fields).
pub fn to_json<T: serde::Serialize + ?Sized>(value: &T) -> Result<Value, ValueError> {
    serde_json::to_string(value)
        .map(Value::Json)
        .map_err(|e| ValueError::new(format!("cannot serialize to JSON: {e}")))
}

/// Decodes a JSON document into a serde type (`#[aggregate(json)]` fields).
pub fn from_json<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, ValueError> {
    match value {
        Value::Json(text) | Value::Text(text) => serde_json::from_str(&text).map_err(|e| {
            ValueError::new(format!("stored JSON does not fit the field's type: {e}"))
        }),
        other => Err(ValueError::unexpected("json", &other)),
    }
}

#[cfg(feature = "uuid")]
impl ColumnValue for uuid::Uuid {
    const KIND: ColumnKind = ColumnKind::Uuid;
    fn to_value(&self) -> Result<Value, ValueError> {
        Ok(Value::Uuid(*self.as_bytes()))
    }
    fn from_value(value: Value) -> Result<Self, ValueError> {
        match value {
            Value::Uuid(b) => Ok(uuid::Uuid::from_bytes(b)),
            other => Err(ValueError::unexpected("uuid", &other)),
        }
    }
}

#[cfg(feature = "decimal")]
impl ColumnValue for rust_decimal::Decimal {
    const KIND: ColumnKind = ColumnKind::Decimal;
    fn to_value(&self) -> Result<Value, ValueError> {
        Ok(Value::Decimal(self.to_string()))
    }
    fn from_value(value: Value) -> Result<Self, ValueError> {
        match value {
            Value::Decimal(text) | Value::Text(text) => text
                .parse()
                .map_err(|e| ValueError::new(format!("`{text}` is not a decimal: {e}"))),
            other => Err(ValueError::unexpected("decimal", &other)),
        }
    }
}

#[cfg(any(feature = "chrono", feature = "time"))]
const MICROS_PER_DAY: i64 = 86_400_000_000;

#[cfg(feature = "chrono")]
mod chrono_impls {
    use super::*;
    use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};

    fn epoch() -> NaiveDate {
        NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()
    }

    fn naive_from_micros(micros: i64) -> Result<NaiveDateTime, ValueError> {
        DateTime::<Utc>::from_timestamp_micros(micros)
            .map(|t| t.naive_utc())
            .ok_or_else(|| ValueError::new(format!("timestamp {micros}µs is out of range")))
    }

    impl ColumnValue for DateTime<Utc> {
        const KIND: ColumnKind = ColumnKind::TimestampTz;
        /// Stored with microsecond precision: nanoseconds are truncated, on
        /// every backend alike.
        fn to_value(&self) -> Result<Value, ValueError> {
            Ok(Value::Timestamp(self.timestamp_micros()))
        }
        fn from_value(value: Value) -> Result<Self, ValueError> {
            match value {
                Value::Timestamp(m) => Ok(naive_from_micros(m)?.and_utc()),
                other => Err(ValueError::unexpected("timestamp", &other)),
            }
        }
    }

    impl ColumnValue for NaiveDateTime {
        const KIND: ColumnKind = ColumnKind::Timestamp;
        fn to_value(&self) -> Result<Value, ValueError> {
            Ok(Value::Timestamp(self.and_utc().timestamp_micros()))
        }
        fn from_value(value: Value) -> Result<Self, ValueError> {
            match value {
                Value::Timestamp(m) => naive_from_micros(m),
                other => Err(ValueError::unexpected("timestamp", &other)),
            }
        }
    }

    impl ColumnValue for NaiveDate {
        const KIND: ColumnKind = ColumnKind::Date;
        fn to_value(&self) -> Result<Value, ValueError> {
            let days = self.signed_duration_since(epoch()).num_days();
            i32::try_from(days)
                .map(Value::Date)
                .map_err(|_| ValueError::new(format!("date {self} is out of range")))
        }
        fn from_value(value: Value) -> Result<Self, ValueError> {
            match value {
                Value::Date(d) => epoch()
                    .checked_add_signed(chrono::TimeDelta::days(i64::from(d)))
                    .ok_or_else(|| ValueError::new(format!("day {d} is out of range"))),
                other => Err(ValueError::unexpected("date", &other)),
            }
        }
    }

    impl ColumnValue for NaiveTime {
        const KIND: ColumnKind = ColumnKind::Time;
        fn to_value(&self) -> Result<Value, ValueError> {
            let micros = i64::from(self.num_seconds_from_midnight()) * 1_000_000
                + i64::from(self.nanosecond() / 1_000);
            Ok(Value::Time(micros))
        }
        fn from_value(value: Value) -> Result<Self, ValueError> {
            match value {
                Value::Time(m) if (0..MICROS_PER_DAY).contains(&m) => {
                    NaiveTime::from_num_seconds_from_midnight_opt(
                        (m / 1_000_000) as u32,
                        ((m % 1_000_000) * 1_000) as u32,
                    )
                    .ok_or_else(|| ValueError::new(format!("time {m}µs is out of range")))
                }
                other => Err(ValueError::unexpected("time of day", &other)),
            }
        }
    }
}

#[cfg(feature = "time")]
mod time_impls {
    use super::*;
    use time::{Date, OffsetDateTime, PrimitiveDateTime, Time};

    fn from_micros(micros: i64) -> Result<OffsetDateTime, ValueError> {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000)
            .map_err(|_| ValueError::new(format!("timestamp {micros}µs is out of range")))
    }

    fn to_micros(t: OffsetDateTime) -> Result<i64, ValueError> {
        i64::try_from(t.unix_timestamp_nanos().div_euclid(1_000))
            .map_err(|_| ValueError::new(format!("timestamp {t} is out of range")))
    }

    impl ColumnValue for OffsetDateTime {
        const KIND: ColumnKind = ColumnKind::TimestampTz;
        fn to_value(&self) -> Result<Value, ValueError> {
            to_micros(*self).map(Value::Timestamp)
        }
        fn from_value(value: Value) -> Result<Self, ValueError> {
            match value {
                Value::Timestamp(m) => from_micros(m),
                other => Err(ValueError::unexpected("timestamp", &other)),
            }
        }
    }

    impl ColumnValue for PrimitiveDateTime {
        const KIND: ColumnKind = ColumnKind::Timestamp;
        fn to_value(&self) -> Result<Value, ValueError> {
            to_micros(self.assume_utc()).map(Value::Timestamp)
        }
        fn from_value(value: Value) -> Result<Self, ValueError> {
            match value {
                Value::Timestamp(m) => {
                    let t = from_micros(m)?;
                    Ok(PrimitiveDateTime::new(t.date(), t.time()))
                }
                other => Err(ValueError::unexpected("timestamp", &other)),
            }
        }
    }

    impl ColumnValue for Date {
        const KIND: ColumnKind = ColumnKind::Date;
        fn to_value(&self) -> Result<Value, ValueError> {
            Ok(Value::Date(self.to_julian_day() - 2_440_588))
        }
        fn from_value(value: Value) -> Result<Self, ValueError> {
            match value {
                Value::Date(d) => Date::from_julian_day(d + 2_440_588)
                    .map_err(|_| ValueError::new(format!("day {d} is out of range"))),
                other => Err(ValueError::unexpected("date", &other)),
            }
        }
    }

    impl ColumnValue for Time {
        const KIND: ColumnKind = ColumnKind::Time;
        fn to_value(&self) -> Result<Value, ValueError> {
            let (h, m, s, micro) = self.as_hms_micro();
            Ok(Value::Time(
                ((i64::from(h) * 60 + i64::from(m)) * 60 + i64::from(s)) * 1_000_000
                    + i64::from(micro),
            ))
        }
        fn from_value(value: Value) -> Result<Self, ValueError> {
            match value {
                Value::Time(m) if (0..MICROS_PER_DAY).contains(&m) => {
                    let secs = m / 1_000_000;
                    Time::from_hms_micro(
                        (secs / 3600) as u8,
                        (secs / 60 % 60) as u8,
                        (secs % 60) as u8,
                        (m % 1_000_000) as u32,
                    )
                    .map_err(|_| ValueError::new(format!("time {m}µs is out of range")))
                }
                other => Err(ValueError::unexpected("time of day", &other)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn u64_above_i64_max_is_rejected_not_wrapped() {
        assert!(u64::MAX.to_value().is_err());
        assert_eq!((i64::MAX as u64).to_value().unwrap(), Value::Int(i64::MAX));
    }

    #[test]
    fn narrow_integers_reject_out_of_range_values() {
        let err = u8::from_value(Value::Int(300)).unwrap_err();
        assert!(err.message().contains("out of range for u8"), "{err}");
    }

    #[test]
    fn null_into_a_required_field_says_so() {
        let err = String::from_value(Value::Null).unwrap_err();
        assert!(err.message().contains("NULL"), "{err}");
    }

    #[test]
    fn uuid_text_round_trips() {
        let bytes = [
            0x67, 0xe5, 0x50, 0x44, 0x10, 0xb1, 0x42, 0x6f, 0x92, 0x47, 0xbb, 0x68, 0x0e, 0x5f,
            0xe0, 0xc8,
        ];
        let text = format_uuid(&bytes);
        assert_eq!(text, "67e55044-10b1-426f-9247-bb680e5fe0c8");
        assert_eq!(parse_uuid(&text), Some(bytes));
        assert_eq!(parse_uuid("not a uuid"), None);
    }

    #[test]
    fn negative_zero_is_stored_as_zero_as_sqlite_and_mysql_store_it() {
        assert_eq!((-0.0f64).to_value().unwrap(), Value::Float(0.0));
        assert_eq!((-0.0f32).to_value().unwrap(), Value::Float(0.0));
        assert_eq!((-1.5f64).to_value().unwrap(), Value::Float(-1.5));
    }

    #[test]
    fn floats_order_totally_so_nan_is_equal_to_itself() {
        assert_eq!(Value::Float(f64::NAN), Value::Float(f64::NAN));
        assert!(Value::Int(2) < Value::Int(10));
        assert!(Value::Text("B".into()) < Value::Text("a".into()));
    }
}
