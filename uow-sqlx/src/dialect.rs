//! The SQL text of each database: identifier quoting, placeholders, column
//! types. Pure text, compiled whatever the features: the DDL of every
//! dialect can be printed from any build. What a database does at run time
//! (binding, decoding, errors, introspection, policy) is its driver's
//! (`driver/<database>.rs`); some dialect-dependent SQL is still spelled in
//! `sql.rs`, `schema.rs`, `outbox.rs` and `commit_marker.rs`.

use std::borrow::Cow;

use uow_core::backend::ColumnKind;

/// The MySQL/MariaDB column of a decimal: its sort key
/// (`uow_core::backend::decimal_sort_key`, at most 40 ASCII characters for a
/// `rust_decimal::Decimal`), compared byte by byte.
const DECIMAL_KEY_TYPE: &str = "VARCHAR(64) COLLATE utf8mb4_nopad_bin";

/// A SQL dialect uow generates statements for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Dialect {
    /// SQLite 3.37+ (tables are created `STRICT`).
    Sqlite,
    /// PostgreSQL 12+.
    Postgres,
    /// MariaDB 10.6+ (tables uow creates use its `utf8mb4_nopad_bin`
    /// collation) and MySQL 8 (whose tables a migration creates with
    /// `utf8mb4_0900_bin`).
    MySql,
}

impl Dialect {
    /// The dialect's name as used in messages and test names.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
            Dialect::MySql => "mysql",
        }
    }

    /// Quotes an identifier, doubling the quote character inside it (names
    /// of aggregates are validated as SQL identifiers by the derive; quoting
    /// keeps names that happen to be keywords in one dialect working, and
    /// any other name one identifier).
    ///
    /// SQLite takes a double-quoted name that matches no column for a string
    /// literal, so a column missing from a table would read as its own name;
    /// a name in backquotes is always an identifier, and a missing column an
    /// error that names it.
    pub fn quote(self, ident: &str) -> String {
        match self {
            Dialect::Postgres => format!("\"{}\"", ident.replace('"', "\"\"")),
            Dialect::Sqlite | Dialect::MySql => format!("`{}`", ident.replace('`', "``")),
        }
    }

    /// The bind-parameter placeholder for the `n`-th parameter (1-based).
    pub fn placeholder(self, n: usize) -> String {
        match self {
            Dialect::Postgres => format!("${n}"),
            Dialect::Sqlite | Dialect::MySql => "?".to_owned(),
        }
    }

    /// The column type a kind is created as.
    pub fn column_type(self, kind: ColumnKind) -> Cow<'static, str> {
        use ColumnKind::*;
        if let FixedDecimal { precision, scale } = kind {
            return match self {
                // The sort key, at the column's scale.
                Dialect::Sqlite => "TEXT".into(),
                Dialect::Postgres => format!("NUMERIC({precision}, {scale})").into(),
                Dialect::MySql => format!("DECIMAL({precision}, {scale})").into(),
            };
        }
        let ty: &'static str = match self {
            // STRICT tables accept only INTEGER, REAL, TEXT, BLOB and ANY.
            // Dates, times, UUIDs and decimals are stored as text in a fixed
            // format that sorts the way the values do (decimals as their
            // `uow_core::backend::decimal_sort_key`).
            Dialect::Sqlite => match kind {
                Bool | SmallInt | Int | BigInt => "INTEGER",
                Real | Double => "REAL",
                Bytes => "BLOB",
                Text | Json | Uuid | TimestampTz | Timestamp | Date | Time | Decimal => "TEXT",
                _ => "ANY",
            },
            Dialect::Postgres => match kind {
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
                _ => "TEXT",
            },
            Dialect::MySql => match kind {
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
                // DECIMAL(p, s) drops a value's scale and holds no decimal
                // of every scale: the sort key keeps both, in numeric order.
                Decimal => DECIMAL_KEY_TYPE,
                _ => "LONGTEXT",
            },
        };
        ty.into()
    }

    /// The column type for a key column (id, unique, finder): MySQL cannot
    /// index unbounded text.
    pub fn key_column_type(self, kind: ColumnKind) -> Cow<'static, str> {
        match (self, kind) {
            (Dialect::MySql, ColumnKind::Text) => "VARCHAR(255) COLLATE utf8mb4_nopad_bin".into(),
            (Dialect::MySql, ColumnKind::Bytes) => "VARBINARY(255)".into(),
            _ => self.column_type(kind),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Dialect;

    #[test]
    fn quoting_doubles_the_quote_character() {
        assert_eq!(Dialect::Postgres.quote("a\"b"), "\"a\"\"b\"");
        assert_eq!(Dialect::MySql.quote("a`b"), "`a``b`");
        assert_eq!(Dialect::Sqlite.quote("plain"), "`plain`");
    }
}
