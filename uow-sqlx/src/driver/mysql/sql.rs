//! MySQL's and MariaDB's SQL text: backquoted names, `?` placeholders,
//! binary no-pad collations for text (exact comparisons), bounded key
//! columns (MySQL cannot index unbounded text), decimals as their sort key,
//! batches as `UNION ALL` selects joined to the table, no `CREATE INDEX IF
//! NOT EXISTS`.

use std::borrow::Cow;

use uow_core::backend::{AggregateMeta, ColumnKind};

use crate::dialect::{Dialect, EXPECTED, OutboxTypes, SqlDialect, non_id_columns};
use crate::existing::{ExistingColumn, fixed_decimal_mismatch, text_length};

/// MySQL's and MariaDB's SQL.
#[derive(Debug)]
pub(crate) struct MySqlSql;

/// The MySQL/MariaDB column of a decimal: its sort key
/// (`uow_core::backend::decimal_sort_key`, at most 40 ASCII characters for a
/// `rust_decimal::Decimal`), compared byte by byte.
const DECIMAL_KEY_TYPE: &str = "VARCHAR(64) COLLATE utf8mb4_nopad_bin";

/// `SELECT ? AS a, ? AS b UNION ALL SELECT ?, ?`: `rows` rows of values
/// named `names` (MySQL has no `VALUES` list with named columns).
fn union_all(names: &[String], rows: usize) -> String {
    let first: Vec<String> = names.iter().map(|name| format!("? AS {name}")).collect();
    let mut selects = vec![format!("SELECT {}", first.join(", "))];
    selects.extend((1..rows).map(|_| format!("SELECT {}", vec!["?"; names.len()].join(", "))));
    selects.join(" UNION ALL ")
}

impl SqlDialect for MySqlSql {
    const DIALECT: Dialect = Dialect::MySql;
    const NAME: &'static str = "mysql";

    /// A MariaDB compound statement (`BEGIN NOT ATOMIC … END`, which MariaDB
    /// prepares with its parameters; MySQL has none, and the store uses it
    /// only on a server that says it is MariaDB, see
    /// `Driver::folds_markers`): the update and, when it matched its row
    /// (`ROW_COUNT() = 1`), the marker's insert, in one transaction that
    /// any error rolls back before it is passed on. Its affected-row count is
    /// the last change's: the marker's 1, or the update's 0.
    fn marked_update(update: &str, unit: usize) -> Option<String> {
        let q = Self::quote;
        let _ = unit;
        Some(format!(
            "BEGIN NOT ATOMIC \
             DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; RESIGNAL; END; \
             START TRANSACTION; \
             {update}; \
             IF ROW_COUNT() = 1 THEN INSERT INTO {} ({}, {}) VALUES (?, 0); END IF; \
             COMMIT; \
             END",
            q(crate::commit_marker::COMMITS_TABLE),
            q("unit_id"),
            q("fenced"),
        ))
    }

    fn quote(ident: &str) -> String {
        format!("`{}`", ident.replace('`', "``"))
    }

    fn placeholder(_n: usize) -> String {
        "?".to_owned()
    }

    fn column_type(kind: ColumnKind) -> Cow<'static, str> {
        use ColumnKind::*;
        match kind {
            Bool => "BOOLEAN",
            SmallInt => "SMALLINT",
            Int => "INT",
            BigInt => "BIGINT",
            Real => "FLOAT",
            Double => "DOUBLE",
            // Binary, no-pad collation: comparisons are exact (`"a"` and
            // `"a "` differ), as on the other backends and the in-memory
            // store.
            Text => "LONGTEXT COLLATE utf8mb4_nopad_bin",
            Bytes => "LONGBLOB",
            Json => "JSON",
            Uuid => "BINARY(16)",
            TimestampTz | Timestamp => "DATETIME(6)",
            Date => "DATE",
            Time => "TIME(6)",
            // DECIMAL(p, s) drops a value's scale and holds no decimal of
            // every scale: the sort key keeps both, in numeric order.
            Decimal => DECIMAL_KEY_TYPE,
            FixedDecimal { precision, scale } => {
                return format!("DECIMAL({precision}, {scale})").into();
            }
        }
        .into()
    }

    /// MySQL cannot index unbounded text.
    fn key_column_type(kind: ColumnKind) -> Cow<'static, str> {
        match kind {
            ColumnKind::Text => "VARCHAR(255) COLLATE utf8mb4_nopad_bin".into(),
            ColumnKind::Bytes => "VARBINARY(255)".into(),
            ColumnKind::Bool
            | ColumnKind::SmallInt
            | ColumnKind::Int
            | ColumnKind::BigInt
            | ColumnKind::Real
            | ColumnKind::Double
            | ColumnKind::Json
            | ColumnKind::Uuid
            | ColumnKind::TimestampTz
            | ColumnKind::Timestamp
            | ColumnKind::Date
            | ColumnKind::Time
            | ColumnKind::Decimal
            | ColumnKind::FixedDecimal { .. } => Self::column_type(kind),
        }
    }

    fn padded_insert(meta: &AggregateMeta, rows: usize) -> String {
        let columns: Vec<_> = meta.columns.iter().map(|c| Self::quote(c.name)).collect();
        format!(
            "INSERT INTO {} ({}) SELECT * FROM ({}) AS v WHERE v.{} IS NOT NULL",
            Self::quote(meta.table),
            columns.join(", "),
            union_all(&columns, rows),
            Self::quote(meta.id_column().name)
        )
    }

    fn batch_update(meta: &AggregateMeta, rows: usize) -> String {
        let q = Self::quote;
        let id = q(meta.id_column().name);
        let others = non_id_columns(meta);
        let names: Vec<String> = [id.clone(), q(EXPECTED)]
            .into_iter()
            .chain(others.iter().map(|c| q(c.name)))
            .collect();
        let sets: Vec<String> = others
            .iter()
            .map(|c| format!("t.{0} = v.{0}", q(c.name)))
            .collect();
        format!(
            "UPDATE {} AS t JOIN ({}) AS v ON t.{id} = v.{id} AND t.{} = v.{} SET {}",
            q(meta.table),
            union_all(&names, rows),
            q(meta.version_column().name),
            q(EXPECTED),
            sets.join(", ")
        )
    }

    const CREATE_INDEX: &'static str = "CREATE INDEX";

    fn incompatible(kind: ColumnKind, key: bool, found: &ExistingColumn) -> Option<String> {
        use ColumnKind::*;
        let ty = found.ty.as_str();
        let refuse = |why: &str| Some(why.to_owned());
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
            FixedDecimal { precision, scale } => {
                return fixed_decimal_mismatch("decimal", precision, scale, found);
            }
        };
        if !accepted.contains(&ty) {
            return refuse(if kind == Decimal && ty == "decimal" {
                "DECIMAL(p, s) drops a value's scale and holds not every Decimal; uow stores decimals as their sort key in VARCHAR(64)"
            } else {
                ""
            });
        }
        match kind {
            Text | Bytes if matches!(ty, "char" | "binary") => {
                refuse("CHAR(n)/BINARY(n) pads or trims values; use VARCHAR or LONGTEXT")
            }
            Text | Bytes if matches!(ty, "varchar" | "varbinary") => text_length(key, found.length),
            Text | Bytes
                if !key
                    && matches!(
                        ty,
                        "tinytext" | "text" | "mediumtext" | "tinyblob" | "blob" | "mediumblob"
                    ) =>
            {
                refuse("it holds less than a String or Vec<u8> may; use LONGTEXT or LONGBLOB")
            }
            Uuid if found.length != Some(16) => refuse("a UUID needs BINARY(16)"),
            Decimal if found.length.is_none_or(|n| n < 40) => {
                refuse("the decimal sort key needs VARCHAR(40) or more")
            }
            Bool
            | SmallInt
            | Int
            | BigInt
            | Real
            | Double
            | Text
            | Bytes
            | Json
            | Uuid
            | TimestampTz
            | Timestamp
            | Date
            | Time
            | Decimal
            | FixedDecimal { .. } => None,
        }
    }

    const OUTBOX_TYPES: OutboxTypes = OutboxTypes {
        seq: "BIGINT AUTO_INCREMENT PRIMARY KEY",
        key: "VARCHAR(255) COLLATE utf8mb4_nopad_bin",
        text: "LONGTEXT",
        json: "JSON",
        big: "BIGINT",
        int: "INT",
    };
}
