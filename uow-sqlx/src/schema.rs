//! Schema DDL for aggregates, printed to seed a migration or executed to
//! create missing tables for development and tests, and the verification of
//! existing tables against the aggregates stored in them; written once over
//! [`SqlDialect`] (column types, key constraints and the check of one
//! column are the database's).

use uow_core::{
    Error,
    backend::{AggregateMeta, ColumnMeta},
};

use crate::dialect::SqlDialect;
use crate::existing::{ExistingIndex, ExistingTable};

/// The statements that create the table of `meta` and its indexes, if they do
/// not exist: primary key on the id, `NOT NULL` on every non-`Option` field,
/// `UNIQUE` on `unique` fields, an index on each `find_by` field.
pub(crate) fn create_table<S: SqlDialect>(meta: &AggregateMeta) -> Vec<String> {
    let q = S::quote;
    let mut columns = Vec::with_capacity(meta.columns.len() + 1);
    for column in meta.columns {
        let ty = if column.is_key() {
            S::key_column_type(column.kind)
        } else {
            S::column_type(column.kind)
        };
        let mut def = format!("{} {ty}", q(column.name));
        if !column.nullable {
            def.push_str(" NOT NULL");
        }
        def.push_str(S::column_constraint(column));
        columns.push(def);
    }
    columns.extend(S::table_constraints(meta));
    let mut statements = vec![format!(
        "CREATE TABLE IF NOT EXISTS {} (\n    {}\n){}",
        q(meta.table),
        columns.join(",\n    "),
        S::TABLE_OPTIONS
    )];
    for column in meta.columns.iter().filter(|c| c.is_indexed()) {
        let index = format!("{}_{}_idx", meta.table, column.name);
        statements.push(format!(
            "{} {} ON {} ({})",
            S::CREATE_INDEX,
            q(&index),
            q(meta.table),
            q(column.name)
        ));
    }
    for columns in meta.indexes {
        let names: Vec<&str> = columns.iter().map(|c| meta.columns[*c].name).collect();
        let index = format!("{}_{}_idx", meta.table, names.join("_"));
        statements.push(format!(
            "{} {} ON {} ({})",
            S::CREATE_INDEX,
            q(&index),
            q(meta.table),
            names.iter().map(|n| q(n)).collect::<Vec<_>>().join(", ")
        ));
    }
    statements
}

/// The DDL for every aggregate in `metas`, as one script (statements ended by
/// `;`), to paste into a migration file.
pub(crate) fn ddl<S: SqlDialect>(metas: &[&AggregateMeta]) -> String {
    let mut out = String::new();
    for meta in metas {
        for statement in create_table::<S>(meta) {
            out.push_str(&statement);
            out.push_str(";\n");
        }
        out.push('\n');
    }
    out
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
pub(crate) fn verify<S: SqlDialect>(
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
            S::key_column_type(column.kind)
        } else {
            S::column_type(column.kind)
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
        if let Some(why) = S::incompatible(column.kind, key, found) {
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
