//! What a database says an existing table is: its columns and indexes, as
//! the drivers' introspection reads them (`driver/<database>/`), and the
//! column rules the databases share. Schema verification (`schema.rs`)
//! compares them with an aggregate's metadata.

/// One column of an existing table, as the database describes it.
#[derive(Debug, Default)]
pub(crate) struct ExistingColumn {
    pub(crate) name: String,
    /// The declared or reported type, lower case (`varchar`, `integer`).
    pub(crate) ty: String,
    pub(crate) nullable: bool,
    /// A default, an identity/auto-increment or a generated value: an
    /// insert that leaves the column out does not fail.
    pub(crate) has_default: bool,
    /// The declared length of a character type (`VARCHAR(n)`).
    pub(crate) length: Option<i64>,
    /// The declared precision of a numeric type (`NUMERIC(p, s)`).
    pub(crate) precision: Option<i64>,
    /// The declared scale of a numeric type.
    pub(crate) scale: Option<i64>,
    /// Why the column does not compare text byte by byte, as the in-memory
    /// store does (a case-insensitive, padding or non-deterministic
    /// collation); `None` when it does.
    pub(crate) comparison: Option<String>,
}

/// One index (or primary key or unique constraint) of an existing table.
#[derive(Debug, Default)]
pub(crate) struct ExistingIndex {
    /// The name of the index or constraint.
    #[cfg_attr(not(feature = "mysql"), allow(dead_code))]
    pub(crate) name: String,
    /// Its columns, in order.
    pub(crate) columns: Vec<String>,
    pub(crate) unique: bool,
    pub(crate) primary: bool,
    /// Partial, over expressions or over a prefix of a column: it neither
    /// enforces uniqueness of whole values nor serves every lookup.
    pub(crate) partial: bool,
}

/// An existing table, as the database describes it.
#[derive(Debug, Default)]
pub(crate) struct ExistingTable {
    pub(crate) columns: Vec<ExistingColumn>,
    pub(crate) indexes: Vec<ExistingIndex>,
}

/// A `VARCHAR(n)`: a key column needs room for every key
/// ([`uow_core::backend::MAX_KEY_LEN`] characters), any other column for any text.
pub(crate) fn text_length(key: bool, length: Option<i64>) -> Option<String> {
    let max = i64::try_from(uow_core::backend::MAX_KEY_LEN).unwrap_or(i64::MAX);
    match length {
        None => None,
        Some(n) if key && n >= max => None,
        Some(n) if key => Some(format!(
            "VARCHAR({n}) is shorter than the {max} characters a key may have"
        )),
        Some(n) => Some(format!(
            "VARCHAR({n}) holds not every String; use TEXT (LONGTEXT on MySQL)"
        )),
    }
}

/// Why a column does not hold a `decimal(precision, scale)` field: it must be
/// the database's fixed-point type (`numeric` names it) with that precision
/// and scale. `None` when it is.
pub(crate) fn fixed_decimal_mismatch(
    numeric: &str,
    precision: u8,
    scale: u8,
    found: &ExistingColumn,
) -> Option<String> {
    let declared = (found.precision, found.scale);
    (found.ty != numeric || declared != (Some(i64::from(precision)), Some(i64::from(scale)))).then(
        || {
            format!(
                "the field is declared decimal(precision = {precision}, scale = {scale}), the column {}",
                match declared {
                    (Some(p), Some(s)) if found.ty == numeric => format!("({p}, {s})"),
                    _ => "another type".to_owned(),
                }
            )
        },
    )
}
