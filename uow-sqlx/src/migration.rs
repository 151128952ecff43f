//! The next migration: the statements that bring an existing database up to
//! the aggregates' metadata, read from the database's introspection
//! (`driver/<database>/`, [`ExistingTable`]) and written with the database's
//! [`SqlDialect`]. Only additions: a missing table (with its indexes), a
//! missing column, a missing index. Nothing is dropped, renamed or
//! retyped; what additions cannot fix, [`SqlxStore::verify_tables`] still
//! reports.

use uow_core::{
    Error, UnitOfWork,
    backend::{AggregateMeta, ChildTable, ColumnMeta},
};

use crate::backend::with_backend;
use crate::commit_marker::{self, COMMITS_TABLE};
use crate::dialect::SqlDialect;
use crate::driver::{Driver, connection_error};
use crate::existing::ExistingTable;
use crate::outbox_table::{OUTBOX_TABLE, outbox_ddl_of};
use crate::schema;
use crate::store::SqlxStore;

impl SqlxStore {
    /// The statements of the next migration: what the database this store
    /// is connected to lacks for `aggregates` (their tables and child
    /// tables), and the commit marker table when commit markers are on.
    /// Empty when nothing is missing.
    ///
    /// - a missing table: its `CREATE TABLE` and indexes, as
    ///   [`ddl`](Self::ddl) writes them (child tables after their parent);
    /// - a missing column: `ALTER TABLE … ADD COLUMN …` with the column's
    ///   type and, for a non-`Option` field, `NOT NULL` (no default: on a
    ///   table that has rows, edit the migration to give existing rows a
    ///   value, or the database refuses it); a `unique` column gets its
    ///   `UNIQUE` index as a separate statement;
    /// - a missing index (`find_by`, `unique`, `index(...)`): its `CREATE
    ///   [UNIQUE] INDEX`.
    ///
    /// Never a `DROP`, a rename or a change of type: a column of the wrong
    /// type or nullability stays as it is, and
    /// [`verify_tables`](Self::verify_tables) names it. The statements carry
    /// no trailing `;`. The outbox table is not included (see
    /// [`migration_for`](Self::migration_for)).
    ///
    /// ```no_run
    /// # async fn run(aggregates: &[&'static uow_core::backend::AggregateMeta]) -> Result<(), uow_core::Error> {
    /// let store = uow_sqlx::SqlxStore::connect("postgres://postgres@localhost/app").await?;
    /// for statement in store.migration(aggregates).await? {
    ///     println!("{statement};");
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn migration(
        &self,
        aggregates: &[&'static AggregateMeta],
    ) -> Result<Vec<String>, Error> {
        let mut statements = Vec::new();
        for meta in aggregates {
            with_backend!(self.pool(), |pool, D| {
                type S = <D as Driver>::Sql;
                let read = |name: &'static str| async move {
                    D::table(pool, name)
                        .await
                        .map_err(|e| connection_error(format!("read the columns of {name}"), e))
                };
                let table = read(meta.table).await?;
                if table.columns.is_empty() {
                    statements.extend(schema::create_tables::<S>(meta));
                    continue;
                }
                statements.extend(additions::<S>(meta, &table, |c| c.is_indexed()));
                for child in &meta.child_layout().tables {
                    let existing = read(child.table_name()).await?;
                    if existing.columns.is_empty() {
                        statements.extend(schema::create_child_table::<S>(child));
                    } else {
                        statements.extend(child_additions::<S>(child, &existing));
                    }
                }
            });
        }
        if self.markers() {
            with_backend!(self.pool(), |pool, D| {
                let table = D::table(pool, COMMITS_TABLE).await.map_err(|e| {
                    connection_error(format!("read the columns of {COMMITS_TABLE}"), e)
                })?;
                if table.columns.is_empty() {
                    statements.push(commit_marker::ddl::<<D as Driver>::Sql>());
                }
            });
        }
        Ok(statements)
    }

    /// The next migration of unit of work `U` (see
    /// [`migration`](Self::migration)): its aggregates' tables, the marker
    /// table when commit markers are on, and the outbox table when `U`
    /// stores its events there and the table does not exist yet.
    pub async fn migration_for<U: UnitOfWork>(&self) -> Result<Vec<String>, Error> {
        let mut statements = self.migration(U::AGGREGATES).await?;
        if U::OUTBOX {
            with_backend!(self.pool(), |pool, D| {
                let table = D::table(pool, OUTBOX_TABLE).await.map_err(|e| {
                    connection_error(format!("read the columns of {OUTBOX_TABLE}"), e)
                })?;
                if table.columns.is_empty() {
                    statements.extend(outbox_ddl_of::<<D as Driver>::Sql>());
                }
            });
        }
        Ok(statements)
    }
}

/// The additions to a child table: its missing columns, and the indexes of
/// its own `find_by` fields (the key columns are indexed by the primary key).
fn child_additions<S: SqlDialect>(table: &ChildTable, existing: &ExistingTable) -> Vec<String> {
    let meta = table.stored;
    let prefix = table.prefix();
    additions::<S>(meta, existing, |c| {
        c.is_indexed() && !meta.columns[..prefix].iter().any(|k| k.name == c.name)
    })
}

/// The missing columns of an existing table, then its missing indexes:
/// a UNIQUE index for each `unique` column, an index for each column
/// `indexed` picks and for each `index(...)` of `meta`. An index counts as
/// present as schema verification counts it (one that starts with the
/// columns, not partial).
fn additions<S: SqlDialect>(
    meta: &AggregateMeta,
    table: &ExistingTable,
    indexed: impl Fn(&ColumnMeta) -> bool,
) -> Vec<String> {
    let q = S::quote;
    let has_column = |name: &str| {
        table
            .columns
            .iter()
            .any(|c| c.name.eq_ignore_ascii_case(name))
    };
    let served = |names: &[&str], unique: bool| {
        table.indexes.iter().any(|i| {
            !i.partial
                && (!unique || (i.unique && i.columns.len() == names.len()))
                && i.columns.len() >= names.len()
                && names
                    .iter()
                    .zip(&i.columns)
                    .all(|(want, have)| have.eq_ignore_ascii_case(want))
        })
    };
    let create_index = |unique: bool, names: &[&str]| {
        let create = if unique {
            S::CREATE_INDEX.replacen("CREATE INDEX", "CREATE UNIQUE INDEX", 1)
        } else {
            S::CREATE_INDEX.to_owned()
        };
        format!(
            "{create} {} ON {} ({})",
            q(&format!("{}_{}_idx", meta.table, names.join("_"))),
            q(meta.table),
            names.iter().map(|n| q(n)).collect::<Vec<_>>().join(", ")
        )
    };
    let mut statements = Vec::new();
    for column in meta.columns.iter().filter(|c| !has_column(c.name)) {
        let ty = if column.is_key() {
            S::key_column_type(column.kind)
        } else {
            S::column_type(column.kind)
        };
        let null = if column.nullable { "" } else { " NOT NULL" };
        statements.push(format!(
            "ALTER TABLE {} ADD COLUMN {} {ty}{null}",
            q(meta.table),
            q(column.name)
        ));
    }
    for column in meta.columns.iter().filter(|c| c.is_unique()) {
        if !served(&[column.name], true) {
            statements.push(create_index(true, &[column.name]));
        }
    }
    for column in meta.columns.iter().filter(|c| indexed(c)) {
        if !served(&[column.name], false) {
            statements.push(create_index(false, &[column.name]));
        }
    }
    for index in meta.indexes {
        let names: Vec<&str> = index.iter().map(|c| meta.columns[*c].name).collect();
        if !served(&names, false) {
            statements.push(create_index(false, &names));
        }
    }
    statements
}
