//! Schema DDL for aggregates: printed to seed a migration, or executed to
//! create missing tables for development and tests.

use uow_core::{
    Error,
    backend::{AggregateMeta, ColumnKind, ColumnMeta, ColumnRole},
};

use crate::dialect::Dialect;

/// The statements that create the table of `meta` and its indexes, if they do
/// not exist: primary key on the id, `NOT NULL` on every non-`Option` field,
/// `UNIQUE` on `unique` fields, an index on each `find_by` field.
pub(crate) fn create_table(dialect: Dialect, meta: &AggregateMeta) -> Vec<String> {
    let q = |name: &str| dialect.quote(name);
    let mut columns = Vec::with_capacity(meta.columns.len() + 1);
    for column in meta.columns {
        let ty = if column.is_key() {
            dialect.key_column_type(column.kind)
        } else {
            dialect.column_type(column.kind)
        };
        let mut def = format!("{} {ty}", q(column.name));
        if !column.nullable {
            def.push_str(" NOT NULL");
        }
        match column.role {
            // SQLite: table constraints, below.
            _ if dialect == Dialect::Sqlite => {}
            ColumnRole::Id => def.push_str(" PRIMARY KEY"),
            ColumnRole::Unique => def.push_str(" UNIQUE"),
            _ => {}
        }
        columns.push(def);
    }
    if dialect == Dialect::Sqlite {
        // SQLite checks unique constraints in the reverse of their order in
        // the table, and reports the first it finds violated. Declared in
        // reverse, an insert that takes both a stored id and a stored
        // `unique` value is reported as a duplicate id, and of two `unique`
        // columns the first is reported: as PostgreSQL, MySQL and the
        // in-memory store report them.
        for column in meta.columns.iter().rev().filter(|c| c.is_unique()) {
            columns.push(format!("UNIQUE ({})", q(column.name)));
        }
        columns.push(format!("PRIMARY KEY ({})", q(meta.id_column().name)));
    }
    let strict = if dialect == Dialect::Sqlite {
        " STRICT"
    } else {
        ""
    };
    let mut statements = vec![format!(
        "CREATE TABLE IF NOT EXISTS {} (\n    {}\n){strict}",
        q(meta.table),
        columns.join(",\n    ")
    )];
    for column in meta.columns.iter().filter(|c| c.is_indexed()) {
        let index = format!("{}_{}_idx", meta.table, column.name);
        let if_not_exists = if dialect == Dialect::MySql {
            ""
        } else {
            "IF NOT EXISTS "
        };
        statements.push(format!(
            "CREATE INDEX {if_not_exists}{} ON {} ({})",
            q(&index),
            q(meta.table),
            q(column.name)
        ));
    }
    for columns in meta.indexes {
        let names: Vec<&str> = columns.iter().map(|c| meta.columns[*c].name).collect();
        let index = format!("{}_{}_idx", meta.table, names.join("_"));
        let if_not_exists = if dialect == Dialect::MySql {
            ""
        } else {
            "IF NOT EXISTS "
        };
        statements.push(format!(
            "CREATE INDEX {if_not_exists}{} ON {} ({})",
            q(&index),
            q(meta.table),
            names.iter().map(|n| q(n)).collect::<Vec<_>>().join(", ")
        ));
    }
    statements
}

/// The DDL for every aggregate in `metas`, as one script (statements ended by
/// `;`), to paste into a migration file.
pub(crate) fn ddl(dialect: Dialect, metas: &[&AggregateMeta]) -> String {
    let mut out = String::new();
    for meta in metas {
        for statement in create_table(dialect, meta) {
            out.push_str(&statement);
            out.push_str(";\n");
        }
        out.push('\n');
    }
    out
}

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

/// Why a column the database reports as `found` cannot hold every value of
/// a field of `kind` the way this dialect reads and writes it (`key`: an id,
/// `unique` or `find_by` column); `None` when it can.
pub(crate) fn incompatible(
    dialect: Dialect,
    kind: ColumnKind,
    key: bool,
    found: &ExistingColumn,
) -> Option<String> {
    use ColumnKind::*;
    let ty = found.ty.as_str();
    let refuse = |why: &str| Some(why.to_owned());
    if let FixedDecimal { precision, scale } = kind
        && dialect != Dialect::Sqlite
    {
        let numeric = if dialect == Dialect::Postgres {
            "numeric"
        } else {
            "decimal"
        };
        let declared = (found.precision, found.scale);
        return (ty != numeric || declared != (Some(i64::from(precision)), Some(i64::from(scale))))
            .then(|| {
                format!(
                    "the field is declared decimal(precision = {precision}, scale = {scale}), the column {}",
                    match declared {
                        (Some(p), Some(s)) if ty == numeric => format!("({p}, {s})"),
                        _ => "another type".to_owned(),
                    }
                )
            });
    }
    match dialect {
        // SQLite's type affinity, by the rules of its documentation: an
        // INTEGER column holds any 64-bit integer, a TEXT one any text
        // whatever length a declared CHAR(n) or VARCHAR(n) names.
        Dialect::Sqlite => {
            let fits = match kind {
                Bool | SmallInt | Int | BigInt => ty.contains("int"),
                Real | Double => ["real", "floa", "doub"].iter().any(|t| ty.contains(t)),
                Bytes => ty.contains("blob"),
                _ => ["text", "char", "clob"].iter().any(|t| ty.contains(t)),
            };
            (!fits).then(String::new)
        }
        Dialect::Postgres => {
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
                _ => &[],
            };
            if !accepted.contains(&ty) {
                return refuse("");
            }
            match (kind, ty) {
                (Text, "character") => {
                    refuse("CHAR(n) pads values with spaces; use TEXT or VARCHAR")
                }
                (Text, "character varying") => text_length(key, found.length),
                (Decimal, _) if found.precision.is_some() => refuse(
                    "NUMERIC(p, s) rounds values to its scale; uow stores every Decimal exactly in NUMERIC without precision",
                ),
                _ => None,
            }
        }
        Dialect::MySql => {
            let accepted: &[&str] = match kind {
                Bool => &["tinyint"],
                SmallInt => &["smallint"],
                Int => &["int"],
                BigInt => &["bigint"],
                Real => &["float"],
                Double => &["double"],
                Text => &[
                    "varchar",
                    "char",
                    "tinytext",
                    "text",
                    "mediumtext",
                    "longtext",
                ],
                Bytes => &[
                    "blob",
                    "tinyblob",
                    "mediumblob",
                    "longblob",
                    "varbinary",
                    "binary",
                ],
                // MariaDB reports JSON columns as longtext.
                Json => &["json", "longtext"],
                Uuid => &["binary"],
                TimestampTz | Timestamp => &["datetime"],
                Date => &["date"],
                Time => &["time"],
                // The sort key (see `uow_core::backend::decimal_sort_key`).
                Decimal => &["varchar"],
                _ => &[],
            };
            if !accepted.contains(&ty) {
                return refuse(if kind == Decimal && ty == "decimal" {
                    "DECIMAL(p, s) drops a value's scale and holds not every Decimal; uow stores decimals as their sort key in VARCHAR(64)"
                } else {
                    ""
                });
            }
            match (kind, ty) {
                (Text, "char") | (Bytes, "binary") => {
                    refuse("CHAR(n)/BINARY(n) pads or trims values; use VARCHAR or LONGTEXT")
                }
                (Text, "varchar") | (Bytes, "varbinary") => text_length(key, found.length),
                (Text, "tinytext" | "text" | "mediumtext")
                | (Bytes, "tinyblob" | "blob" | "mediumblob")
                    if !key =>
                {
                    refuse("it holds less than a String or Vec<u8> may; use LONGTEXT or LONGBLOB")
                }
                (Uuid, _) if found.length != Some(16) => refuse("a UUID needs BINARY(16)"),
                (Decimal, _) if found.length.is_none_or(|n| n < 40) => {
                    refuse("the decimal sort key needs VARCHAR(40) or more")
                }
                _ => None,
            }
        }
    }
}

/// A `VARCHAR(n)`: a key column needs room for every key
/// ([`uow_core::backend::MAX_KEY_LEN`] characters), any other column for any text.
fn text_length(key: bool, length: Option<i64>) -> Option<String> {
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

/// Columns of uow's own tables whose values uow bounds itself (short names
/// and ids), so a `VARCHAR(255)` holds them.
fn bounded(meta: &AggregateMeta, column: &str) -> bool {
    meta.table == crate::outbox_table::OUTBOX_TABLE
        && matches!(column, "aggregate_type" | "aggregate_id" | "event_type")
}

/// Checks an existing table against the aggregate stored in it: every
/// column present, of a type that holds every value of its field, with the
/// field's nullability, keys compared byte by byte; the primary key on the
/// id; a whole-column UNIQUE index for each `unique` field; an index that
/// serves each `find_by`; no other NOT NULL column without a default. The
/// first drift is an [`Error::Schema`] naming the table, the column and
/// what is wrong.
pub(crate) fn verify(
    dialect: Dialect,
    meta: &AggregateMeta,
    table: &ExistingTable,
) -> Result<(), Error> {
    let error = |column: Option<&str>, problem: String| Error::Schema {
        table: meta.table.to_owned(),
        column: column.map(str::to_owned),
        problem,
    };
    let columns = &table.columns;
    if columns.is_empty() {
        return Err(error(
            None,
            format!(
                "the table does not exist, but aggregate {} is stored in it; create it (see ddl_for / create_tables_for)",
                meta.name
            ),
        ));
    }
    let find = |name: &str| columns.iter().find(|c| c.name.eq_ignore_ascii_case(name));
    let expected_type = |column: &ColumnMeta| {
        if column.is_key() {
            dialect.key_column_type(column.kind)
        } else {
            dialect.column_type(column.kind)
        }
    };
    for column in meta.columns {
        if find(column.name).is_none() {
            return Err(error(
                Some(column.name),
                format!(
                    "the column is missing; {}.{} needs a {} column",
                    meta.name,
                    column.field,
                    expected_type(column)
                ),
            ));
        }
    }
    for column in meta.columns {
        let Some(found) = find(column.name) else {
            continue;
        };
        let key = column.is_key() || bounded(meta, column.name);
        if let Some(why) = incompatible(dialect, column.kind, key, found) {
            let why = if why.is_empty() {
                String::new()
            } else {
                format!(": {why}")
            };
            return Err(error(
                Some(column.name),
                format!(
                    "the column is {}, which cannot hold {}.{} ({}){why}; expected {}",
                    found.ty,
                    meta.name,
                    column.field,
                    column.kind.name(),
                    expected_type(column)
                ),
            ));
        }
        if column.nullable && !found.nullable {
            return Err(error(
                Some(column.name),
                format!(
                    "the column is NOT NULL, but {}.{} is an Option: storing None would fail",
                    meta.name, column.field
                ),
            ));
        }
        if !column.nullable && found.nullable {
            return Err(error(
                Some(column.name),
                format!(
                    "the column admits NULL, but {}.{} is not an Option: loading a NULL would fail; add NOT NULL or make the field an Option",
                    meta.name, column.field
                ),
            ));
        }
    }
    for column in meta.columns.iter().filter(|c| c.is_key()) {
        if let Some(why) = find(column.name).and_then(|c| c.comparison.as_ref()) {
            return Err(error(
                Some(column.name),
                format!(
                    "{why}; {}.{} is a key, which uow and the in-memory store compare byte by byte",
                    meta.name, column.field
                ),
            ));
        }
    }
    let whole = |index: &&ExistingIndex, column: &str| {
        !index.partial && index.columns.len() == 1 && index.columns[0].eq_ignore_ascii_case(column)
    };
    let id = meta.id_column();
    let primary = table.indexes.iter().find(|i| i.primary);
    let id_unique = table.indexes.iter().any(|i| i.unique && whole(&i, id.name));
    match primary {
        Some(pk) if whole(&pk, id.name) => {}
        Some(pk) if id_unique => {
            let _ = pk;
        }
        Some(pk) => {
            return Err(error(
                Some(id.name),
                format!(
                    "the primary key is on ({}), not on the id column alone; {}.{} is the id",
                    pk.columns.join(", "),
                    meta.name,
                    id.field
                ),
            ));
        }
        None if id_unique => {}
        None => {
            return Err(error(
                Some(id.name),
                format!(
                    "the table has no primary key on the id; {}.{} needs PRIMARY KEY ({})",
                    meta.name, id.field, id.name
                ),
            ));
        }
    }
    for column in meta.columns.iter().filter(|c| c.is_unique()) {
        if !table
            .indexes
            .iter()
            .any(|i| i.unique && whole(&i, column.name))
        {
            return Err(error(
                Some(column.name),
                format!(
                    "no UNIQUE constraint or index on the column alone; {}.{} is unique, so duplicates would be stored where the in-memory store refuses them",
                    meta.name, column.field
                ),
            ));
        }
    }
    for column in meta.columns.iter().filter(|c| c.is_indexed()) {
        let served = table.indexes.iter().any(|i| {
            !i.partial
                && i.columns
                    .first()
                    .is_some_and(|c| c.eq_ignore_ascii_case(column.name))
        });
        if !served {
            return Err(error(
                Some(column.name),
                format!(
                    "no index starts with the column; find_by_{} would scan the whole table: CREATE INDEX ON {} ({})",
                    column.field, meta.table, column.name
                ),
            ));
        }
    }
    for index in meta.indexes {
        let names: Vec<&str> = index.iter().map(|c| meta.columns[*c].name).collect();
        let served = table.indexes.iter().any(|i| {
            !i.partial
                && i.columns.len() >= names.len()
                && names
                    .iter()
                    .zip(&i.columns)
                    .all(|(want, have)| have.eq_ignore_ascii_case(want))
        });
        if !served {
            return Err(error(
                None,
                format!(
                    "no index starts with the columns ({}) of {}'s `index({})`: CREATE INDEX ON {} ({})",
                    names.join(", "),
                    meta.name,
                    index
                        .iter()
                        .map(|c| meta.columns[*c].field)
                        .collect::<Vec<_>>()
                        .join(", "),
                    meta.table,
                    names.join(", ")
                ),
            ));
        }
    }
    for extra in columns {
        let known = meta
            .columns
            .iter()
            .any(|c| c.name.eq_ignore_ascii_case(&extra.name));
        if !known && !extra.nullable && !extra.has_default {
            return Err(error(
                Some(&extra.name),
                format!(
                    "the column is NOT NULL without a default, and {} does not store it: every insert would fail; give it a default or drop NOT NULL",
                    meta.name
                ),
            ));
        }
    }
    Ok(())
}
