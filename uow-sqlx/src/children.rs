//! Child tables on a SQL store, written once over [`Driver`]: loading the
//! children of the roots a read returned (one query per child table for
//! all of them, `WHERE root_id IN (...)`), finding roots by a child's
//! column, and writing a commit's child rows (per table: deletes in one
//! statement per chunk of keys, inserts in multi-row statements, updates one per
//! changed row). The rows are described by each table's
//! [`ChildTable::stored`] metadata, so values bind and decode as every
//! other column does.

use std::sync::atomic::{AtomicU64, Ordering};

use uow_core::{
    Aggregate, Error,
    backend::{
        AggregateMeta, ChildChanges, ChildTable, ColumnKind, Loaded, Value, attach_children,
        attach_children_kept,
    },
};

use crate::dialect::{SqlDialect, sql, values_list};
use crate::driver::{Conn, Driver, Stmt, backend, bind_value};
use crate::flush::{Writer, write_error};
use crate::sql::TableSql;

/// The most roots one child query names (`IN` lists of more are split).
const ROOTS_PER_QUERY: usize = 1000;

/// Gives `roots` their children: one query per child table (per
/// [`ROOTS_PER_QUERY`] roots), each statement counted in `counter`; the
/// statement texts are the root table's `sql`, built once per size. The
/// rows read are each root's snapshot (see [`Loaded`]) unless a child
/// table has a JSON column: a database may hand back a JSON document in
/// another form than the one written (PostgreSQL's `jsonb` orders keys),
/// so those children are encoded again by the unit of work.
pub(crate) async fn load<D: Driver, A: Aggregate>(
    conn: &mut Conn<D>,
    sql: &TableSql,
    loaded: Vec<Loaded<A>>,
    counter: &AtomicU64,
) -> Result<Vec<Loaded<A>>, Error> {
    let layout = A::META.child_layout();
    if layout.is_empty() || loaded.is_empty() {
        return Ok(loaded);
    }
    let (mut roots, read): (Vec<A>, Vec<Option<Vec<Value>>>) =
        loaded.into_iter().map(|l| (l.aggregate, l.row)).unzip();
    let ids = roots
        .iter()
        .map(|root| {
            uow_core::ColumnValue::to_value(root.id()).map_err(|reason| Error::Encode {
                aggregate: A::META.name,
                field: A::META.id_column().field,
                id: "?".to_owned(),
                reason,
            })
        })
        .collect::<Result<Vec<Value>, Error>>()?;
    let mut rows = Vec::with_capacity(layout.tables.len());
    for table in &layout.tables {
        let meta = table.stored;
        let mut table_rows = Vec::new();
        for chunk in ids.chunks(ROOTS_PER_QUERY) {
            // The rows of one root do not select the root's id: it is known.
            let one_root = match chunk {
                [root] => Some(root),
                _ => None,
            };
            let text = sql.children(table.index, chunk.len(), || {
                select_children::<D::Sql>(meta, chunk.len())
            });
            let mut stmt: Stmt<D> = sqlx::query(text);
            for id in chunk {
                stmt = bind_value::<D>(stmt, meta, 0, id.clone())?;
            }
            counter.fetch_add(1, Ordering::Relaxed);
            let found = D::fetch_all(conn, stmt)
                .await
                .map_err(|e| backend::<D>(format!("load from {}", meta.table), e))?;
            table_rows.reserve(found.len());
            for row in &found {
                table_rows.push(read_row::<D>(row, table, one_root)?);
            }
        }
        rows.push(table_rows);
    }
    let as_written = layout.tables.iter().all(|table| {
        table
            .stored
            .columns
            .iter()
            .all(|column| column.kind != ColumnKind::Json)
    });
    let snapshots = if as_written {
        attach_children_kept(&mut roots, rows)?
            .into_iter()
            .map(Some)
            .collect()
    } else {
        attach_children(&mut roots, rows)?;
        vec![None; roots.len()]
    };
    Ok(roots
        .into_iter()
        .zip(read)
        .zip(snapshots)
        .map(|((aggregate, row), children)| Loaded {
            aggregate,
            row,
            children,
        })
        .collect())
}

/// A stored child row as values, in the table's column order. `root`: the
/// root's id when the statement was for that one root, and left the root
/// column out (see [`select_children`]).
fn read_row<D: Driver>(
    row: &crate::driver::DbRow<D>,
    table: &ChildTable,
    root: Option<&Value>,
) -> Result<Vec<Value>, Error> {
    let meta = table.stored;
    // Sized up front: collecting fallible results would grow it step by step.
    let mut values = Vec::with_capacity(meta.columns.len());
    let skipped = match root {
        Some(root) => {
            values.push(root.clone());
            1
        }
        None => 0,
    };
    for (index, column) in meta.columns.iter().enumerate().skip(skipped) {
        let value = D::get(row, index - skipped, column.kind).map_err(|reason| Error::Decode {
            aggregate: table.aggregate.name,
            table: meta.table,
            column: column.name,
            id: root.map_or_else(|| "?".to_owned(), Value::to_string),
            reason,
        })?;
        values.push(value);
    }
    Ok(values)
}

/// `SELECT <columns> FROM child WHERE root_id IN (?, ...)`; for one root
/// `SELECT <columns but root_id> FROM child WHERE root_id = ?` (a value
/// fewer to send, decode and free on every row).
fn select_children<S: SqlDialect>(meta: &AggregateMeta, roots: usize) -> String {
    let q = S::quote;
    let root = q(meta.columns[0].name);
    let table = q(meta.table);
    if roots == 1 {
        let columns: Vec<String> = meta.columns[1..].iter().map(|c| q(c.name)).collect();
        return format!(
            "SELECT {} FROM {table} WHERE {root} = {}",
            columns.join(", "),
            S::placeholder(1)
        );
    }
    let columns: Vec<String> = meta.columns.iter().map(|c| q(c.name)).collect();
    let list: Vec<String> = (1..=roots).map(S::placeholder).collect();
    format!(
        "SELECT {} FROM {table} WHERE {root} IN ({})",
        columns.join(", "),
        list.join(", ")
    )
}

/// `SELECT <root columns> FROM root WHERE id IN (SELECT root_id FROM child
/// WHERE <column> = ?) ORDER BY id`: the roots holding a child whose
/// column `column` (of the table's stored row) equals the parameter.
pub(crate) fn select_by_child<S: SqlDialect>(
    meta: &AggregateMeta,
    table: &ChildTable,
    column: usize,
) -> String {
    let q = S::quote;
    let columns: Vec<String> = meta.columns.iter().map(|c| q(c.name)).collect();
    format!(
        "SELECT {} FROM {} WHERE {} IN (SELECT {} FROM {} WHERE {} = {}) ORDER BY {}",
        columns.join(", "),
        q(meta.table),
        q(meta.id_column().name),
        q(table.stored.columns[0].name),
        q(table.table_name()),
        q(table.stored.columns[column].name),
        S::placeholder(1),
        S::order_by_id(meta)
    )
}

/// `DELETE FROM child WHERE (root_id, id) IN ((?, ?), ...)`.
fn delete_children<S: SqlDialect>(table: &ChildTable, rows: usize) -> String {
    let q = S::quote;
    let meta = table.stored;
    format!(
        "DELETE FROM {} WHERE ({}, {}) IN ({})",
        q(meta.table),
        q(meta.columns[0].name),
        q(meta.columns[table.id_index()].name),
        values_list::<S>(rows, 2, |_| None)
    )
}

/// `UPDATE child SET position = ?, <own columns but the id> = ? WHERE
/// root_id = ? AND id = ?`. (The root and parent of a row never change in
/// an update: a child that moves is deleted and inserted.)
fn update_child<S: SqlDialect>(table: &ChildTable) -> (String, Vec<usize>) {
    let q = S::quote;
    let meta = table.stored;
    let set: Vec<usize> = (table.position_index()..meta.columns.len())
        .filter(|i| *i != table.id_index())
        .collect();
    let assignments: Vec<String> = set
        .iter()
        .enumerate()
        .map(|(n, i)| format!("{} = {}", q(meta.columns[*i].name), S::placeholder(n + 1)))
        .collect();
    let text = format!(
        "UPDATE {} SET {} WHERE {} = {} AND {} = {}",
        q(meta.table),
        assignments.join(", "),
        q(meta.columns[0].name),
        S::placeholder(set.len() + 1),
        q(meta.columns[table.id_index()].name),
        S::placeholder(set.len() + 2)
    );
    (text, set)
}

impl<D: Driver> Writer<'_, D> {
    /// Writes one aggregate's child rows, in the order of
    /// [`TableChanges::children`](uow_core::backend::TableChanges::children):
    /// every table's deletes, children before parents, then each table's
    /// updates and inserts, parents before children. Child rows carry no
    /// version: the root's row, written before them in the same commit, is
    /// version-checked whenever a child changed.
    pub(crate) async fn flush_children(&mut self, changes: Vec<ChildChanges>) -> Result<(), Error> {
        for change in changes.iter().rev() {
            if !change.deletes.is_empty() {
                self.delete_child_rows(change.table, &change.deletes)
                    .await?;
            }
        }
        for change in changes {
            let table = change.table;
            if !change.updates.is_empty() {
                let (text, set) = update_child::<D::Sql>(table);
                let text = sql(text);
                let meta = table.stored;
                let id = table.id_index();
                for mut row in change.updates {
                    let root = row[0].to_string();
                    let mut stmt: Stmt<D> = sqlx::query(text.clone());
                    for i in &set {
                        stmt = bind_value::<D>(
                            stmt,
                            meta,
                            *i,
                            std::mem::replace(&mut row[*i], Value::Null),
                        )?;
                    }
                    stmt = bind_value::<D>(
                        stmt,
                        meta,
                        0,
                        std::mem::replace(&mut row[0], Value::Null),
                    )?;
                    stmt = bind_value::<D>(
                        stmt,
                        meta,
                        id,
                        std::mem::replace(&mut row[id], Value::Null),
                    )?;
                    self.execute_counted(stmt).await.map_err(|e| {
                        in_aggregate(write_error::<D>(meta, &root, "update", e), table)
                    })?;
                }
            }
            if !change.inserts.is_empty() {
                self.insert_rows(table.stored, change.inserts)
                    .await
                    .map_err(|e| in_aggregate(e, table))?;
            }
        }
        Ok(())
    }

    /// Deletes rows by key `(root_id, id)`, in one statement per chunk
    /// of at most 500 rows.
    async fn delete_child_rows(
        &mut self,
        table: &ChildTable,
        keys: &[(Value, Value)],
    ) -> Result<(), Error> {
        let meta = table.stored;
        let most = (D::MAX_PARAMETERS / 2).clamp(1, 500);
        for chunk in keys.chunks(most) {
            let text = delete_children::<D::Sql>(table, chunk.len());
            let mut stmt: Stmt<D> = sqlx::query(sql(text));
            for (root, id) in chunk {
                stmt = bind_value::<D>(stmt, meta, 0, root.clone())?;
                stmt = bind_value::<D>(stmt, meta, table.id_index(), id.clone())?;
            }
            self.execute_counted(stmt)
                .await
                .map_err(|e| backend::<D>(format!("delete from {}", meta.table), e))?;
        }
        Ok(())
    }
}

/// A duplicate reported for a child row names the aggregate holding it
/// (its id is the row's root id already), as the in-memory store does.
fn in_aggregate(error: Error, table: &ChildTable) -> Error {
    match error {
        Error::Duplicate { id, column, .. } => Error::Duplicate {
            aggregate: table.aggregate.name,
            id,
            column,
        },
        other => other,
    }
}
