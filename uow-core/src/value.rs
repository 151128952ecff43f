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
use std::sync::Arc;

/// The storage kind of a column: what a backend creates it as and decodes it
/// from. Each dialect maps a kind to one SQL type (see `uow-sqlx`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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
    /// An exact decimal number, with its scale.
    Decimal,
    /// An exact decimal of at most `precision` digits, `scale` of them after
    /// the point (`#[aggregate(decimal(precision = P, scale = S))]`): a
    /// `DECIMAL(P, S)`/`NUMERIC(P, S)` column. Every store keeps values at
    /// scale `S` and refuses one that does not fit ([`fixed_scale`]).
    FixedDecimal {
        /// Digits in all.
        precision: u8,
        /// Digits after the point.
        scale: u8,
    },
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
            ColumnKind::FixedDecimal { .. } => "decimal(precision, scale)",
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
    /// A decimal number in its canonical text form (`"-12.50"`): digits after
    /// the point are its scale, kept by every store.
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
            (Text(a), Text(b)) | (Json(a), Json(b)) => a.as_bytes().cmp(b.as_bytes()),
            // In numeric order, then by scale (`1.0` < `1.00` < `1.5`), as
            // the databases compare uow's decimal columns; the text breaks
            // the tie of two spellings of one decimal, so that equal values
            // hash alike.
            (Decimal(a), Decimal(b)) if a == b => Ordering::Equal,
            (Decimal(a), Decimal(b)) => decimal_sort_key(a)
                .cmp(&decimal_sort_key(b))
                .then_with(|| a.as_bytes().cmp(b.as_bytes())),
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
            Value::Uuid(b) => write!(f, "{}", uuid::Uuid::from_bytes(*b).hyphenated()),
            Value::Timestamp(v) => write!(f, "{v}µs"),
            Value::Date(v) => write!(f, "day {v}"),
            Value::Time(v) => write!(f, "{v}µs after midnight"),
        }
    }
}

/// The first day a date column holds on every backend: 0001-01-01, as days
/// since 1970-01-01.
pub const FIRST_DAY: i32 = -719_162;
/// The last day a date column holds on every backend: 9999-12-31.
pub const LAST_DAY: i32 = 2_932_896;
/// The first instant a timestamp column holds: 0001-01-01 00:00:00.
pub const FIRST_MICRO: i64 = FIRST_DAY as i64 * MICROS_PER_DAY;
/// The last instant a timestamp column holds: 9999-12-31 23:59:59.999999.
pub const LAST_MICRO: i64 = (LAST_DAY as i64 + 1) * MICROS_PER_DAY - 1;
/// The deepest nesting of arrays and objects a JSON column holds (MariaDB
/// refuses 32; serde_json reads up to 128).
pub const MAX_JSON_DEPTH: usize = 31;
/// The most characters (text) or bytes (bytes) a key column — the id, a
/// `unique` or a `find_by` field — holds (MariaDB indexes `VARCHAR(255)`).
pub const MAX_KEY_LEN: usize = 255;

/// Checks that every store can hold `value` in a column of `kind` exactly,
/// `key` for an id, `unique` or `find_by` column. A value that fails is
/// refused at commit by every store alike (the in-memory store included), so
/// nothing is stored that one backend would change, reject late, or fail to
/// read back:
///
/// - text without NUL characters (PostgreSQL cannot store them), a key of at
///   most [`MAX_KEY_LEN`] characters (bytes: bytes);
/// - integers within the column's width;
/// - finite floats;
/// - JSON without NUL characters, nested at most [`MAX_JSON_DEPTH`] deep;
/// - dates and timestamps in the years 1 to 9999, times of day within a day;
/// - decimals in the canonical text form ([`decimal_sort_key`] accepts it).
pub fn check_storable(kind: ColumnKind, key: bool, value: &Value) -> Result<(), ValueError> {
    let refuse = |why: String| Err(ValueError::with_kind(ValueErrorKind::Unstorable, why));
    match value {
        Value::Text(text) => {
            if text.contains('\0') {
                return refuse(
                    "the text contains a NUL character, which PostgreSQL cannot store".into(),
                );
            }
            if key && text.chars().nth(MAX_KEY_LEN).is_some() {
                return refuse(format!(
                    "a key column holds at most {MAX_KEY_LEN} characters; this text has {}",
                    text.chars().count()
                ));
            }
        }
        Value::Bytes(bytes) if key && bytes.len() > MAX_KEY_LEN => {
            return refuse(format!(
                "a key column holds at most {MAX_KEY_LEN} bytes; these are {}",
                bytes.len()
            ));
        }
        Value::Int(v) => {
            let (fits, width) = match kind {
                ColumnKind::SmallInt => (i16::try_from(*v).is_ok(), "16"),
                ColumnKind::Int => (i32::try_from(*v).is_ok(), "32"),
                _ => (true, "64"),
            };
            if !fits {
                return Err(ValueError::with_kind(
                    ValueErrorKind::OutOfRange,
                    format!("{v} does not fit the column's {width}-bit integer"),
                ));
            }
        }
        Value::Float(v) if !v.is_finite() => {
            return refuse(format!(
                "{v} is not a finite number; SQLite and MySQL/MariaDB cannot store it"
            ));
        }
        Value::Json(text) => check_json(text)?,
        Value::Date(d) if !(FIRST_DAY..=LAST_DAY).contains(d) => {
            return Err(ValueError::with_kind(
                ValueErrorKind::OutOfRange,
                format!(
                    "day {d} after 1970-01-01 is outside the years 1 to 9999 that every backend stores"
                ),
            ));
        }
        Value::Timestamp(t) if !(FIRST_MICRO..=LAST_MICRO).contains(t) => {
            return Err(ValueError::with_kind(
                ValueErrorKind::OutOfRange,
                format!(
                    "{t}µs after 1970-01-01 is outside the years 1 to 9999 that every backend stores"
                ),
            ));
        }
        Value::Time(t) if !(0..MICROS_PER_DAY).contains(t) => {
            return refuse(format!("{t}µs is not a time of day"));
        }
        Value::Decimal(text) if decimal_sort_key(text).is_none() => {
            return Err(ValueError::with_kind(
                ValueErrorKind::Malformed,
                format!(
                    "`{text}` is not a decimal in canonical form (digits, an optional point and digits)"
                ),
            ));
        }
        _ => {}
    }
    Ok(())
}

/// No NUL (escaped `\u0000`), and arrays and objects nested at most
/// [`MAX_JSON_DEPTH`] deep.
fn check_json(text: &str) -> Result<(), ValueError> {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
                if b == b'u' && bytes.get(i + 1..i + 5) == Some(b"0000") {
                    return Err(ValueError::with_kind(
                        ValueErrorKind::Unstorable,
                        "the JSON document contains a NUL character (\\u0000), which PostgreSQL cannot store",
                    ));
                }
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'-' if negative_zero(&bytes[i + 1..]) => {
                return Err(ValueError::with_kind(
                    ValueErrorKind::Unstorable,
                    "the JSON document holds a negative zero, which PostgreSQL's JSONB stores as 0",
                ));
            }
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            0 => {
                return Err(ValueError::with_kind(
                    ValueErrorKind::Unstorable,
                    "the JSON document contains a NUL byte",
                ));
            }
            _ => {}
        }
    }
    if deepest > MAX_JSON_DEPTH {
        return Err(ValueError::with_kind(
            ValueErrorKind::Unstorable,
            format!(
                "the JSON document nests {deepest} deep; every backend reads at most {MAX_JSON_DEPTH}"
            ),
        ));
    }
    Ok(())
}

/// Whether the JSON number after a `-` is zero (`0`, `0.0`, `0e5`).
fn negative_zero(number: &[u8]) -> bool {
    let mantissa = number
        .iter()
        .take_while(|b| b.is_ascii_digit() || **b == b'.')
        .copied()
        .collect::<Vec<u8>>();
    !mantissa.is_empty() && mantissa.iter().all(|b| matches!(b, b'0' | b'.'))
}

/// `text`, a decimal in canonical form, at exactly `scale` digits after the
/// point (`1.5` at scale 4 is `1.5000`), for a column of `precision` digits;
/// an error if the value has non-zero digits beyond `scale` (it would be
/// rounded) or more than `precision - scale` before the point.
///
/// ```
/// use uow_core::backend::fixed_scale;
/// assert_eq!(fixed_scale("1.5", 19, 4).unwrap(), "1.5000");
/// assert_eq!(fixed_scale("-2.10000", 19, 4).unwrap(), "-2.1000");
/// assert!(fixed_scale("1.23456", 19, 4).is_err());
/// assert!(fixed_scale("123456", 7, 2).is_err());
/// ```
pub fn fixed_scale(text: &str, precision: u8, scale: u8) -> Result<String, ValueError> {
    let (negative, int, frac) = decimal_parts(text).ok_or_else(|| {
        ValueError::with_kind(
            ValueErrorKind::Malformed,
            format!("`{text}` is not a decimal in canonical form"),
        )
    })?;
    let scale = usize::from(scale);
    let (kept, dropped) = frac.split_at(frac.len().min(scale));
    if dropped.bytes().any(|b| b != b'0') {
        return Err(ValueError::with_kind(
            ValueErrorKind::OutOfRange,
            format!(
                "{text} has {} digits after the point; the column keeps {scale}: round it first",
                frac.trim_end_matches('0').len()
            ),
        ));
    }
    let int = int.trim_start_matches('0');
    let room = usize::from(precision).saturating_sub(scale);
    if int.len() > room {
        return Err(ValueError::with_kind(
            ValueErrorKind::OutOfRange,
            format!(
                "{text} has {} digits before the point; the column holds {room} (precision {precision}, scale {scale})",
                int.len()
            ),
        ));
    }
    let digits = format!("{int}{kept}{}", "0".repeat(scale - kept.len()));
    let digits = digits.trim_start_matches('0').to_owned();
    Ok(scaled_text(negative && !digits.is_empty(), digits, scale))
}

/// The sign, integer digits and fraction digits of a decimal in canonical
/// text form (`-12.50`): an optional `-`, at least one digit, optionally a
/// point and at least one digit.
fn decimal_parts(text: &str) -> Option<(bool, &str, &str)> {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let valid = !int.is_empty()
        && digits(int)
        && digits(frac)
        && (!frac.is_empty() || !unsigned.ends_with('.'));
    valid.then_some((negative, int, frac))
}

/// The text under which decimals sort in numeric order, then by scale, and
/// from which the decimal, with its scale, is read back exactly
/// ([`decimal_from_sort_key`]). SQLite and MySQL/MariaDB store decimals as
/// this text, in a binary collation, so that `ORDER BY` and comparisons on
/// the column follow the numbers and a value keeps its scale (`1234.50`
/// stays `1234.50`).
///
/// The form: a class letter (`N` negative, `O` zero, `P` positive); for
/// non-zero values the decimal exponent plus 500 in three digits (for
/// negatives subtracted from 999) and the significant digits (for negatives
/// each subtracted from 9, then `~`); then `,` and the scale in three digits.
/// `1234.50` is `P50412345,002`, `-9.5` is `N49804~,001`, `0.00` is `O,002`.
/// `None` for text that is not a decimal in canonical form, or whose
/// exponent or scale exceed three digits.
///
/// ```
/// use uow_core::backend::{decimal_from_sort_key, decimal_sort_key};
/// let key = decimal_sort_key("1234.50").unwrap();
/// assert_eq!(key, "P50412345,002");
/// assert!(decimal_sort_key("9.00").unwrap() < decimal_sort_key("10.00").unwrap());
/// assert_eq!(decimal_from_sort_key(&key).as_deref(), Some("1234.50"));
/// ```
pub fn decimal_sort_key(text: &str) -> Option<String> {
    let (negative, int, frac) = decimal_parts(text)?;
    let scale = frac.len();
    if scale > 999 {
        return None;
    }
    let all: String = [int, frac].concat();
    let significant = all.trim_start_matches('0');
    if significant.is_empty() {
        return Some(format!("O,{scale:03}"));
    }
    let exponent = significant.len() as i64 - scale as i64 + 500;
    if !(0..=999).contains(&exponent) {
        return None;
    }
    let mantissa = significant.trim_end_matches('0');
    Some(if negative {
        let complement: String = mantissa
            .bytes()
            .map(|d| char::from(b'9' - (d - b'0')))
            .collect();
        format!("N{:03}{complement}~,{scale:03}", 999 - exponent)
    } else {
        format!("P{exponent:03}{mantissa},{scale:03}")
    })
}

/// The decimal, in canonical text form with its scale, that
/// [`decimal_sort_key`] encoded as `key`; `None` if `key` is not such a key.
pub fn decimal_from_sort_key(key: &str) -> Option<String> {
    let number = |s: &str| -> Option<i64> {
        (s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let (body, scale) = key.get(1..)?.rsplit_once(',')?;
    let scale = usize::try_from(number(scale)?).ok()?;
    let (negative, exponent, mantissa) = match key.as_bytes()[0] {
        b'O' if body.is_empty() => return Some(scaled_text(false, String::new(), scale)),
        b'P' => (false, number(body.get(..3)?)?, body.get(3..)?.to_owned()),
        b'N' => {
            let digits = body.get(3..)?.strip_suffix('~')?;
            let plain: Option<String> = digits
                .bytes()
                .map(|d| d.is_ascii_digit().then(|| char::from(b'9' - (d - b'0'))))
                .collect();
            (true, 999 - number(body.get(..3)?)?, plain?)
        }
        _ => return None,
    };
    let canonical = !mantissa.is_empty()
        && mantissa.bytes().all(|b| b.is_ascii_digit())
        && !mantissa.starts_with('0')
        && !mantissa.ends_with('0');
    // The integer `value * 10^scale`: the mantissa and this many zeros.
    let zeros = exponent - 500 + scale as i64 - mantissa.len() as i64;
    if !canonical || zeros < 0 {
        return None;
    }
    let digits = mantissa + &"0".repeat(usize::try_from(zeros).ok()?);
    Some(scaled_text(negative, digits, scale))
}

/// `digits` (an integer without leading zeros, empty for zero) with a point
/// `scale` digits from the right: `12345`, 2 → `123.45`.
fn scaled_text(negative: bool, digits: String, scale: usize) -> String {
    let padded = if digits.len() <= scale {
        "0".repeat(scale + 1 - digits.len()) + &digits
    } else {
        digits
    };
    let (int, frac) = padded.split_at(padded.len() - scale);
    let sign = if negative { "-" } else { "" };
    if scale == 0 {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    }
}

/// Why a value could not be converted to or from a field's type, or stored.
///
/// [`kind`](Self::kind) says which rule the value broke;
/// [`source`](std::error::Error::source) is the underlying error when there is
/// one (serde_json's, the driver's), whose message is not repeated in this
/// one's.
#[derive(Clone, Debug)]
pub struct ValueError {
    kind: ValueErrorKind,
    message: String,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

/// The kind of a [`ValueError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ValueErrorKind {
    /// A NULL where the field is not an `Option`.
    UnexpectedNull,
    /// A stored value of another kind than the field's (text for an integer).
    WrongKind,
    /// A number, date or time outside the range of the field or the column.
    OutOfRange,
    /// JSON that cannot be serialized, or that does not fit the field's type.
    Json,
    /// Text that is not in the form its kind is stored in (a decimal, a
    /// date on SQLite).
    Malformed,
    /// A value that some store could not hold exactly (a NUL character, an
    /// over-long key, a non-finite float): refused by every store alike.
    Unstorable,
    /// The driver could not read or bind the value.
    Driver,
    /// Anything else ([`ValueError::new`]).
    Other,
}

impl ValueError {
    /// A conversion error with a message saying what was wrong, of kind
    /// [`ValueErrorKind::Other`].
    pub fn new(message: impl Into<String>) -> Self {
        ValueError::with_kind(ValueErrorKind::Other, message)
    }

    /// A conversion error of `kind` with a message saying what was wrong.
    pub fn with_kind(kind: ValueErrorKind, message: impl Into<String>) -> Self {
        ValueError {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// The same error, caused by `source` (whose message the error's own
    /// message need not repeat: reporters print the chain).
    pub fn caused_by(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// The stored value had another kind than the field expects.
    pub fn unexpected(expected: &str, found: &Value) -> Self {
        if found.is_null() {
            ValueError::with_kind(
                ValueErrorKind::UnexpectedNull,
                format!(
                    "found NULL where the field is not an Option (expected {expected}); make the field an Option or fill the column"
                ),
            )
        } else {
            ValueError::with_kind(
                ValueErrorKind::WrongKind,
                format!("expected {expected}, found {}", found.kind_name()),
            )
        }
    }

    /// Which rule the value broke.
    pub fn kind(&self) -> ValueErrorKind {
        self.kind
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// Equal when of the same kind with the same message (sources are not
/// compared).
impl PartialEq for ValueError {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind && self.message == other.message
    }
}

impl Eq for ValueError {}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ValueError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// A type that is stored in one column.
///
/// Implemented for the integers, floats, `bool`, `String`, `Vec<u8>`,
/// `Option<T>`, and (behind features) `uuid`, `chrono`, `time` and
/// `rust_decimal` types. A newtype value object gets it from
/// `#[derive(ColumnValue)]`; a type that needs several columns or a nested
/// structure is stored as a JSON document with `#[aggregate(json)]` instead.
///
/// ```
/// use uow_core::{ColumnValue, backend::{ColumnKind, Value}};
/// assert_eq!(<String as ColumnValue>::KIND, ColumnKind::Text);
/// assert_eq!(7u32.to_value().unwrap(), Value::Int(7));
/// assert_eq!(<Option<i32>>::from_value(Value::Null).unwrap(), None);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no column mapping",
    label = "this type cannot be stored in one column",
    note = "store it as one JSON document with `#[aggregate(json)]` on the field (the type must implement serde's `Serialize` and `Deserialize`); or, for a newtype value object or a fieldless enum, add `#[derive(ColumnValue)]` to it; or implement `uow_core::ColumnValue` for it"
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
    /// Whether [`to_value`](Self::to_value) would give a value equal to
    /// `stored`: the dirty check of a commit asks this of every field of an
    /// unchanged aggregate, so an implementation should not allocate. It
    /// may say `false` when unsure (the aggregate is then encoded and
    /// compared in full), never `true` for a value that differs. The
    /// default converts and compares; text, bytes, `Option` and the derived
    /// newtypes and enums compare in place.
    ///
    /// ```
    /// use uow_core::{ColumnValue, backend::Value};
    /// assert!("lamp".to_owned().same_as(&Value::Text("lamp".into())));
    /// assert!(!Some(3_i32).same_as(&Value::Null));
    /// ```
    #[inline]
    fn same_as(&self, stored: &Value) -> bool {
        self.to_value().is_ok_and(|value| value == *stored)
    }
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
                    ValueError::with_kind(ValueErrorKind::OutOfRange, format!(
                        "{} does not fit in a signed 64-bit column", self
                    ))
                })
            }
            fn from_value(value: Value) -> Result<Self, ValueError> {
                match value {
                    Value::Int(v) => <$ty>::try_from(v).map_err(|_| {
                        ValueError::with_kind(ValueErrorKind::OutOfRange, format!(
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
            // What an f32 field wrote round-trips (every f32 is exactly an
            // f64); a double written by something else is rounded to the
            // nearest f32.
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
    #[inline]
    fn same_as(&self, stored: &Value) -> bool {
        matches!(stored, Value::Text(text) if text == self)
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
    #[inline]
    fn same_as(&self, stored: &Value) -> bool {
        matches!(stored, Value::Bytes(bytes) if bytes == self)
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
    #[inline]
    fn same_as(&self, stored: &Value) -> bool {
        match self {
            Some(v) => v.same_as(stored),
            None => matches!(stored, Value::Null),
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
    serde_json::to_string(value).map(Value::Json).map_err(|e| {
        ValueError::with_kind(ValueErrorKind::Json, "cannot serialize to JSON").caused_by(e)
    })
}

/// Decodes a JSON document into a serde type (`#[aggregate(json)]` fields).
pub fn from_json<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, ValueError> {
    match value {
        Value::Json(text) | Value::Text(text) => serde_json::from_str(&text).map_err(|e| {
            ValueError::with_kind(
                ValueErrorKind::Json,
                "stored JSON does not fit the field's type",
            )
            .caused_by(e)
        }),
        other => Err(ValueError::unexpected("json", &other)),
    }
}

#[cfg(feature = "uuid")]
#[cfg_attr(docsrs, doc(cfg(feature = "uuid")))]
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
#[cfg_attr(docsrs, doc(cfg(feature = "decimal")))]
impl ColumnValue for rust_decimal::Decimal {
    const KIND: ColumnKind = ColumnKind::Decimal;
    /// The decimal with its scale (`1234.50`); a negative zero is stored as
    /// zero of the same scale, as the databases store it.
    fn to_value(&self) -> Result<Value, ValueError> {
        let mut value = *self;
        if value.is_zero() {
            value.set_sign_positive(true);
        }
        Ok(Value::Decimal(value.to_string()))
    }
    fn from_value(value: Value) -> Result<Self, ValueError> {
        match value {
            Value::Decimal(text) | Value::Text(text) => text.parse().map_err(|e| {
                ValueError::with_kind(
                    ValueErrorKind::Malformed,
                    format!("`{text}` is not a decimal"),
                )
                .caused_by(e)
            }),
            other => Err(ValueError::unexpected("decimal", &other)),
        }
    }
}

const MICROS_PER_DAY: i64 = 86_400_000_000;

#[cfg(feature = "chrono")]
mod chrono_impls {
    use super::*;
    use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};

    fn epoch() -> NaiveDate {
        NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()
    }

    /// chrono represents a leap second as a nanosecond count of a second or
    /// more; no database uow supports stores one.
    fn no_leap_second(nanosecond: u32) -> Result<(), ValueError> {
        if nanosecond >= 1_000_000_000 {
            return Err(ValueError::with_kind(
                ValueErrorKind::Unstorable,
                "a leap second (second 60) cannot be stored: no backend holds one",
            ));
        }
        Ok(())
    }

    fn naive_from_micros(micros: i64) -> Result<NaiveDateTime, ValueError> {
        DateTime::<Utc>::from_timestamp_micros(micros)
            .map(|t| t.naive_utc())
            .ok_or_else(|| {
                ValueError::with_kind(
                    ValueErrorKind::OutOfRange,
                    format!("timestamp {micros}µs is out of range"),
                )
            })
    }

    #[cfg_attr(docsrs, doc(cfg(feature = "chrono")))]
    impl ColumnValue for DateTime<Utc> {
        const KIND: ColumnKind = ColumnKind::TimestampTz;
        /// Stored with microsecond precision: nanoseconds are truncated, on
        /// every backend and the in-memory store alike. A leap second is
        /// refused.
        fn to_value(&self) -> Result<Value, ValueError> {
            no_leap_second(self.nanosecond())?;
            Ok(Value::Timestamp(self.timestamp_micros()))
        }
        fn from_value(value: Value) -> Result<Self, ValueError> {
            match value {
                Value::Timestamp(m) => Ok(naive_from_micros(m)?.and_utc()),
                other => Err(ValueError::unexpected("timestamp", &other)),
            }
        }
    }

    #[cfg_attr(docsrs, doc(cfg(feature = "chrono")))]
    impl ColumnValue for NaiveDateTime {
        const KIND: ColumnKind = ColumnKind::Timestamp;
        fn to_value(&self) -> Result<Value, ValueError> {
            no_leap_second(self.nanosecond())?;
            Ok(Value::Timestamp(self.and_utc().timestamp_micros()))
        }
        fn from_value(value: Value) -> Result<Self, ValueError> {
            match value {
                Value::Timestamp(m) => naive_from_micros(m),
                other => Err(ValueError::unexpected("timestamp", &other)),
            }
        }
    }

    #[cfg_attr(docsrs, doc(cfg(feature = "chrono")))]
    impl ColumnValue for NaiveDate {
        const KIND: ColumnKind = ColumnKind::Date;
        fn to_value(&self) -> Result<Value, ValueError> {
            let days = self.signed_duration_since(epoch()).num_days();
            i32::try_from(days).map(Value::Date).map_err(|_| {
                ValueError::with_kind(
                    ValueErrorKind::OutOfRange,
                    format!("date {self} is out of range"),
                )
            })
        }
        fn from_value(value: Value) -> Result<Self, ValueError> {
            match value {
                Value::Date(d) => epoch()
                    .checked_add_signed(chrono::TimeDelta::days(i64::from(d)))
                    .ok_or_else(|| {
                        ValueError::with_kind(
                            ValueErrorKind::OutOfRange,
                            format!("day {d} is out of range"),
                        )
                    }),
                other => Err(ValueError::unexpected("date", &other)),
            }
        }
    }

    #[cfg_attr(docsrs, doc(cfg(feature = "chrono")))]
    impl ColumnValue for NaiveTime {
        const KIND: ColumnKind = ColumnKind::Time;
        fn to_value(&self) -> Result<Value, ValueError> {
            no_leap_second(self.nanosecond())?;
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
                    .ok_or_else(|| {
                        ValueError::with_kind(
                            ValueErrorKind::OutOfRange,
                            format!("time {m}µs is out of range"),
                        )
                    })
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
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000).map_err(|_| {
            ValueError::with_kind(
                ValueErrorKind::OutOfRange,
                format!("timestamp {micros}µs is out of range"),
            )
        })
    }

    fn to_micros(t: OffsetDateTime) -> Result<i64, ValueError> {
        i64::try_from(t.unix_timestamp_nanos().div_euclid(1_000)).map_err(|_| {
            ValueError::with_kind(
                ValueErrorKind::OutOfRange,
                format!("timestamp {t} is out of range"),
            )
        })
    }

    #[cfg_attr(docsrs, doc(cfg(feature = "time")))]
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

    #[cfg_attr(docsrs, doc(cfg(feature = "time")))]
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

    #[cfg_attr(docsrs, doc(cfg(feature = "time")))]
    impl ColumnValue for Date {
        const KIND: ColumnKind = ColumnKind::Date;
        fn to_value(&self) -> Result<Value, ValueError> {
            Ok(Value::Date(self.to_julian_day() - 2_440_588))
        }
        fn from_value(value: Value) -> Result<Self, ValueError> {
            match value {
                Value::Date(d) => Date::from_julian_day(d + 2_440_588).map_err(|_| {
                    ValueError::with_kind(
                        ValueErrorKind::OutOfRange,
                        format!("day {d} is out of range"),
                    )
                }),
                other => Err(ValueError::unexpected("date", &other)),
            }
        }
    }

    #[cfg_attr(docsrs, doc(cfg(feature = "time")))]
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
                    .map_err(|_| {
                        ValueError::with_kind(
                            ValueErrorKind::OutOfRange,
                            format!("time {m}µs is out of range"),
                        )
                    })
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
    fn uuids_show_hyphenated() {
        let bytes = [
            0x67, 0xe5, 0x50, 0x44, 0x10, 0xb1, 0x42, 0x6f, 0x92, 0x47, 0xbb, 0x68, 0x0e, 0x5f,
            0xe0, 0xc8,
        ];
        assert_eq!(
            Value::Uuid(bytes).to_string(),
            "67e55044-10b1-426f-9247-bb680e5fe0c8"
        );
    }

    #[test]
    fn decimal_sort_keys_round_trip_and_sort_numerically() {
        let ordered = [
            "-79228162514264337593543950335",
            "-10.00",
            "-9.5",
            "-9.50",
            "-9",
            "-0.0000000000000000000000000001",
            "0",
            "0.00",
            "0.0000000000000000000000000001",
            "1",
            "1.0",
            "1.087654321098",
            "9.00",
            "10.00",
            "1234.50",
            "79228162514264337593543950335",
        ];
        for text in ordered {
            let key = decimal_sort_key(text).unwrap_or_else(|| panic!("{text}"));
            assert_eq!(decimal_from_sort_key(&key).as_deref(), Some(text), "{key}");
        }
        for pair in ordered.windows(2) {
            let (a, b) = (
                decimal_sort_key(pair[0]).unwrap(),
                decimal_sort_key(pair[1]).unwrap(),
            );
            assert!(a < b, "{} ({a}) < {} ({b})", pair[0], pair[1]);
            assert!(
                Value::Decimal(pair[0].into()) < Value::Decimal(pair[1].into()),
                "{pair:?}"
            );
        }
        for bad in ["", "-", "1.", ".5", "1e5", "1,5", "+1", "--1", "0x10"] {
            assert_eq!(decimal_sort_key(bad), None, "{bad:?}");
        }
        for bad in ["", "P", "P5011", "P501,002x", "Q501,000", "P5010,000"] {
            assert_eq!(decimal_from_sort_key(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn fixed_scale_pads_or_refuses() {
        assert_eq!(fixed_scale("0", 5, 2).unwrap(), "0.00");
        assert_eq!(fixed_scale("-0.000", 5, 2).unwrap(), "0.00");
        assert_eq!(fixed_scale("999.99", 5, 2).unwrap(), "999.99");
        assert_eq!(fixed_scale("12", 5, 0).unwrap(), "12");
        assert_eq!(fixed_scale("0012.300", 5, 2).unwrap(), "12.30");
        assert!(fixed_scale("1000", 5, 2).is_err());
        assert!(fixed_scale("0.001", 5, 2).is_err());
    }

    #[test]
    fn values_a_database_cannot_hold_are_refused() {
        use ColumnKind as K;
        let ok = |kind, key, value: Value| check_storable(kind, key, &value);
        assert!(ok(K::Text, false, Value::Text("a\0b".into())).is_err());
        assert!(ok(K::Text, false, Value::Text("x".repeat(300))).is_ok());
        assert!(ok(K::Text, true, Value::Text("é".repeat(255))).is_ok());
        assert!(ok(K::Text, true, Value::Text("é".repeat(256))).is_err());
        assert!(ok(K::Bytes, true, Value::Bytes(vec![0; 256])).is_err());
        assert!(ok(K::Double, false, Value::Float(f64::NAN)).is_err());
        assert!(ok(K::Double, false, Value::Float(f64::INFINITY)).is_err());
        assert!(ok(K::SmallInt, false, Value::Int(40_000)).is_err());
        assert!(ok(K::Int, false, Value::Int(i64::from(i32::MAX) + 1)).is_err());
        assert!(ok(K::Date, false, Value::Date(FIRST_DAY)).is_ok());
        assert!(ok(K::Date, false, Value::Date(FIRST_DAY - 1)).is_err());
        assert!(ok(K::Date, false, Value::Date(LAST_DAY)).is_ok());
        assert!(ok(K::Date, false, Value::Date(LAST_DAY + 1)).is_err());
        assert!(ok(K::Timestamp, false, Value::Timestamp(LAST_MICRO)).is_ok());
        assert!(ok(K::Timestamp, false, Value::Timestamp(LAST_MICRO + 1)).is_err());
        assert!(ok(K::Time, false, Value::Time(MICROS_PER_DAY)).is_err());
        assert!(ok(K::Decimal, false, Value::Decimal("1e3".into())).is_err());
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(ok(K::Json, false, Value::Json(deep(MAX_JSON_DEPTH))).is_ok());
        assert!(ok(K::Json, false, Value::Json(deep(MAX_JSON_DEPTH + 1))).is_err());
        assert!(ok(K::Json, false, Value::Json(r#"["[[[[\""]"#.into())).is_ok());
        assert!(ok(K::Json, false, Value::Json(r#"["a\u0000b"]"#.into())).is_err());
        assert!(ok(K::Json, false, Value::Json("[-0.0]".into())).is_err());
        assert!(ok(K::Json, false, Value::Json("[-0]".into())).is_err());
        assert!(ok(K::Json, false, Value::Json("[-0.5, \"-0\"]".into())).is_ok());
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
