//! Schema DDL for aggregates: printed to seed a migration, or executed to
//! create missing tables for development and tests.

use uow_core::{AggregateMeta, ColumnKind, ColumnRole, Error};

use crate::dialect::Dialect;

/// The statements that create the table of `meta` and its indexes, if they do
/// not exist: primary key on the id, `NOT NULL` on every non-`Option` field,
/// `UNIQUE` on `unique` fields, an index on each `find_by` field.
pub fn create_table(dialect: Dialect, meta: &AggregateMeta) -> Vec<String> {
    let q = |name: &str| dialect.quote(name);
    let mut columns = Vec::with_capacity(meta.columns.len() + 1);
    for column in meta.columns {
        let keyed = matches!(
            column.role,
            ColumnRole::Id | ColumnRole::Unique | ColumnRole::Finder
        );
        let ty = if keyed {
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
    statements
}

/// The DDL for every aggregate in `metas`, as one script (statements ended by
/// `;`), to paste into a migration file.
pub fn ddl(dialect: Dialect, metas: &[&AggregateMeta]) -> String {
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
#[derive(Debug)]
pub(crate) struct ExistingColumn {
    pub(crate) name: String,
    /// The declared or reported type, lower case.
    pub(crate) ty: String,
    pub(crate) nullable: bool,
}

fn existing(rows: Vec<(String, String, String)>) -> Vec<ExistingColumn> {
    rows.into_iter()
        .map(|(name, ty, nullable)| ExistingColumn {
            name,
            ty: ty.to_lowercase(),
            nullable: nullable.eq_ignore_ascii_case("yes"),
        })
        .collect()
}

pub(crate) async fn sqlite_columns(
    pool: &sqlx::SqlitePool,
    table: &str,
) -> Result<Vec<ExistingColumn>, sqlx::Error> {
    let rows = sqlx::query_as(
        "SELECT name, type, CASE WHEN \"notnull\" = 1 OR pk = 1 THEN 'NO' ELSE 'YES' END \
         FROM pragma_table_info(?)",
    )
    .bind(table)
    .fetch_all(pool)
    .await?;
    Ok(existing(rows))
}

pub(crate) async fn postgres_columns(
    pool: &sqlx::PgPool,
    table: &str,
) -> Result<Vec<ExistingColumn>, sqlx::Error> {
    let rows = sqlx::query_as(
        "SELECT column_name::text, data_type::text, is_nullable::text \
         FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = $1",
    )
    .bind(table)
    .fetch_all(pool)
    .await?;
    Ok(existing(rows))
}

pub(crate) async fn mysql_columns(
    pool: &sqlx::MySqlPool,
    table: &str,
) -> Result<Vec<ExistingColumn>, sqlx::Error> {
    let rows = sqlx::query_as(
        "SELECT CAST(column_name AS CHAR), CAST(data_type AS CHAR), CAST(is_nullable AS CHAR) \
         FROM information_schema.columns \
         WHERE table_schema = DATABASE() AND table_name = ?",
    )
    .bind(table)
    .fetch_all(pool)
    .await?;
    Ok(existing(rows))
}

/// Whether a column the database reports as `ty` can hold `kind` the way
/// this dialect reads and writes it.
pub(crate) fn compatible(dialect: Dialect, kind: ColumnKind, ty: &str) -> bool {
    use ColumnKind::*;
    match dialect {
        // SQLite's type affinity, by the rules of its documentation.
        Dialect::Sqlite => match kind {
            Bool | SmallInt | Int | BigInt => ty.contains("int"),
            Real | Double => ["real", "floa", "doub"].iter().any(|t| ty.contains(t)),
            Bytes => ty.contains("blob"),
            _ => ["text", "char", "clob"].iter().any(|t| ty.contains(t)),
        },
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
            accepted.contains(&ty)
        }
        Dialect::MySql => {
            let accepted: &[&str] = match kind {
                Bool => &["tinyint"],
                SmallInt => &["smallint", "tinyint"],
                Int => &["int", "mediumint", "smallint"],
                BigInt => &["bigint"],
                Real => &["float"],
                Double => &["double"],
                Text => &[
                    "varchar",
                    "char",
                    "text",
                    "tinytext",
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
                TimestampTz | Timestamp => &["datetime", "timestamp"],
                Date => &["date"],
                Time => &["time"],
                Decimal => &["decimal"],
                _ => &[],
            };
            accepted.contains(&ty)
        }
    }
}

/// Checks an existing table against the aggregate stored in it.
pub(crate) fn verify(
    dialect: Dialect,
    meta: &AggregateMeta,
    columns: &[ExistingColumn],
) -> Result<(), Error> {
    let error = |column: Option<&str>, problem: String| Error::Schema {
        table: meta.table.to_owned(),
        column: column.map(str::to_owned),
        problem,
    };
    if columns.is_empty() {
        return Err(error(
            None,
            format!(
                "the table does not exist, but aggregate {} is stored in it; create it (see ddl_for / create_tables_for)",
                meta.name
            ),
        ));
    }
    for column in meta.columns {
        let Some(found) = columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(column.name))
        else {
            return Err(error(
                Some(column.name),
                format!(
                    "the column is missing; {}.{} needs a {} column",
                    meta.name,
                    column.field,
                    dialect.column_type(column.kind)
                ),
            ));
        };
        if !compatible(dialect, column.kind, &found.ty) {
            return Err(error(
                Some(column.name),
                format!(
                    "the column is {}, which cannot hold {}.{} ({}); expected {}",
                    found.ty,
                    meta.name,
                    column.field,
                    column.kind.name(),
                    dialect.column_type(column.kind)
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
    Ok(())
}
