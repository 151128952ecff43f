//! Schema DDL for aggregates: printed to seed a migration, or executed to
//! create missing tables for development and tests.

use uow_core::{AggregateMeta, ColumnRole};

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
            ColumnRole::Id => def.push_str(" PRIMARY KEY"),
            ColumnRole::Unique => def.push_str(" UNIQUE"),
            _ => {}
        }
        columns.push(def);
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
