//! Writing one unit of work's changes inside an open transaction: in a
//! deterministic order, in as few statements as the dialect allows, with
//! every update and delete checked against the version that was loaded.
//!
//! Per table (tables ordered by name): deletes, then updates, then inserts.
//!
//! - One or two rows: one statement per row, `WHERE id = ? AND version = ?`,
//!   zero rows affected is the conflict of that aggregate.
//! - More rows: one statement per chunk (1,000 rows are one), after a
//!   savepoint, each row guarded by its version, and the chunk's
//!   affected-row count checks them all. A chunk that falls short is
//!   undone and written row by row, whose first failure names the
//!   aggregate whose version moved on (see `Writer::update_many`).
//!   Rows are locked in the order the database's plan visits them, not in
//!   id order: two batched commits over overlapping rows may deadlock; the
//!   database breaks the cycle and uow reports the loser as a retryable
//!   error (what hand-written batched updates do too; the id-ordered
//!   locking read that prevented it cost a round trip and every id and
//!   version sent back).
//! - Inserts go in multi-row `INSERT`s. Chunks stay under the dialect's bind
//!   parameter limit: full batches of a power of two, then the rest in one
//!   statement (padded to a power of two with rows of NULLs where the
//!   statement can skip them, so few texts are prepared and reused; MySQL
//!   inserts, which cannot skip them, take the rest at its exact size, as
//!   hand-written code does). PostgreSQL binds one array per column
//!   instead (`UNNEST`), one statement text for any number of rows. A
//!   duplicate in a chunk is pinned to its aggregate by re-running that chunk
//!   row by row (after a savepoint on PostgreSQL, where a failed statement
//!   aborts the transaction).

use std::sync::atomic::{AtomicU64, Ordering};

use uow_core::{
    Error,
    backend::{AggregateMeta, ChangeSet, ColumnKind, Delete, Update, Value},
};

use crate::driver::{
    Args, Conn, Driver, Failure, Stmt, backend, bind_row, bind_value, bind_value_copy, failure,
};
use crate::inbox::{INBOX_META, inbox_row};
use crate::outbox_table::{OUTBOX_META, outbox_row};
use crate::sql::{Batch, TableSql};
use crate::statements::Statements;

/// The one update of a commit that is nothing else
/// ([`ChangeSet::lone_update`]), if `alone` says its aggregate can be
/// written alone. Anything else comes back to be flushed in a transaction.
pub(crate) fn lone_update(
    changes: ChangeSet,
    alone: impl FnOnce(&'static AggregateMeta) -> bool,
) -> Result<LoneUpdate, ChangeSet> {
    if !changes.lone_update().is_some_and(alone) {
        return Err(changes);
    }
    let (tables, _) = changes.into_parts();
    tables
        .into_iter()
        .find_map(|t| {
            let meta = t.meta;
            t.updates
                .into_iter()
                .next()
                .map(|update| LoneUpdate { meta, update })
        })
        .ok_or_else(ChangeSet::new)
}

/// The one update of a commit that writes nothing else
/// ([`Writer::lone_update`]).
pub(crate) struct LoneUpdate {
    meta: &'static AggregateMeta,
    update: Update,
}

/// Why a commit of one statement ([`Writer::update_alone`]) did not store.
pub(crate) enum AloneFailure {
    /// Nothing was stored, and this error says why (a version conflict, a
    /// value that cannot be bound).
    Refused(Error),
    /// The statement failed: the caller tells what that means (a lost
    /// connection leaves its outcome to be found out).
    Failed {
        meta: &'static AggregateMeta,
        id: String,
        error: sqlx::Error,
    },
}

impl AloneFailure {
    /// The error of a failed statement that was not stored.
    pub(crate) fn not_stored<D: Driver>(
        meta: &'static AggregateMeta,
        id: &str,
        error: sqlx::Error,
    ) -> Error {
        write_error::<D>(meta, id, "update", error)
    }
}

/// Up to this many rows of one kind are written one statement per row.
const ROW_BY_ROW: usize = 2;
/// The most rows one batch statement carries.
const MAX_BATCH_ROWS: usize = 1024;
/// The most rows one array batch (PostgreSQL) carries: its text is the same
/// for any number of rows, so this only bounds the size of one message.
const MAX_ARRAY_ROWS: usize = 16_384;

/// Runs statements for one commit and counts them.
pub(crate) struct Writer<'a, D: Driver> {
    pub(crate) conn: &'a mut Conn<D>,
    pub(crate) statements: &'a Statements,
    pub(crate) counter: &'a AtomicU64,
}

impl<D: Driver> Writer<'_, D> {
    /// Runs a statement, counted.
    pub(crate) async fn execute_counted(&mut self, stmt: Stmt<D>) -> Result<u64, sqlx::Error> {
        self.execute(stmt).await
    }

    /// Inserts full rows of `meta`'s table in multi-row statements.
    pub(crate) async fn insert_rows(
        &mut self,
        meta: &'static AggregateMeta,
        rows: Vec<Vec<Value>>,
    ) -> Result<(), Error> {
        self.insert(meta, rows).await
    }

    async fn execute(&mut self, stmt: Stmt<D>) -> Result<u64, sqlx::Error> {
        self.counter.fetch_add(1, Ordering::Relaxed);
        D::execute(self.conn, stmt).await
    }

    /// Writes every change of the unit of work.
    pub(crate) async fn flush(&mut self, changes: ChangeSet) -> Result<(), Error> {
        // The inbox record first: a message already handled fails the
        // commit before any other write (and a delivery handled at once by
        // another consumer waits here on its key).
        if let Some(record) = changes.inbox().cloned() {
            let (consumer, message_id) = (record.consumer.clone(), record.message_id.clone());
            match self.insert(&INBOX_META, vec![inbox_row(record)]).await {
                Err(Error::Duplicate { .. }) => {
                    return Err(Error::AlreadyReceived {
                        consumer,
                        message_id,
                    });
                }
                other => other?,
            }
        }
        let (tables, outbox) = changes.into_parts();
        for table in tables {
            let meta = table.meta;
            if table.deletes.len() <= ROW_BY_ROW {
                for delete in table.deletes {
                    self.delete_one(meta, delete).await?;
                }
            } else {
                self.delete_many(meta, table.deletes).await?;
            }
            // A table with `unique` columns is updated one row at a time, in
            // id order: two updates that hand a unique value from one row to
            // another then pass or fail as they do one after the other (and
            // on the in-memory store). One batched statement would check
            // them in whatever order its plan visits the rows.
            let unique = meta.columns.iter().any(|c| c.is_unique());
            if table.updates.len() <= ROW_BY_ROW || unique {
                for update in table.updates {
                    self.update_one(meta, update).await?;
                }
            } else {
                self.update_many(meta, table.updates).await?;
            }
            self.insert(meta, table.inserts).await?;
            self.flush_children(table.children).await?;
        }
        // The outbox last: its sequence numbers then follow commit order for
        // each aggregate, whose row lock the commit already holds.
        let rows = outbox.into_iter().map(outbox_row).collect();
        self.insert(&OUTBOX_META, rows).await
    }

    /// Runs the commit of one update as one statement in autocommit mode
    /// (no `BEGIN`, no `COMMIT`: the statement is atomic on its own), with
    /// the insert of the commit marker of `unit` folded in when given
    /// (`TableSql::update_marked`, which the caller has checked).
    pub(crate) async fn update_alone(
        &mut self,
        lone: LoneUpdate,
        unit: Option<&uow_core::UnitId>,
    ) -> Result<(), AloneFailure> {
        let LoneUpdate { meta, update } = lone;
        let sql = self.statements.get(meta);
        let text = match (unit, &sql.update_marked) {
            (None, _) => sql.update.clone(),
            (Some(_), Some(marked)) => marked.clone(),
            (Some(_), None) => {
                return Err(AloneFailure::Refused(Error::Backend(
                    uow_core::BackendError::new(
                        "commit",
                        "this database cannot fold a commit marker into an update",
                    )
                    .rolled_back(),
                )));
            }
        };
        let mut row = update.row;
        let id_value = std::mem::replace(&mut row[meta.id], Value::Null);
        let id = id_value.to_string();
        let refused = AloneFailure::Refused;
        let mut stmt = sqlx::query(text);
        for (i, value) in row.into_iter().enumerate() {
            if i != meta.id {
                stmt = bind_value::<D>(stmt, meta, i, value).map_err(refused)?;
            }
        }
        let stmt = bind_value::<D>(stmt, meta, meta.id, id_value).map_err(refused)?;
        let mut stmt =
            bind_value::<D>(stmt, meta, meta.version, version(update.expected)).map_err(refused)?;
        if let Some(unit) = unit {
            stmt = crate::driver::bind_other::<D>(
                stmt,
                Value::Text(unit.as_str().to_owned()),
                ColumnKind::Text,
                "the commit marker",
            )
            .map_err(refused)?;
        }
        match self.execute(stmt).await {
            Ok(0) => Err(AloneFailure::Refused(conflict(meta, id, update.expected))),
            Ok(_) => Ok(()),
            Err(e) => Err(AloneFailure::Failed { meta, id, error: e }),
        }
    }

    async fn delete_one(
        &mut self,
        meta: &'static AggregateMeta,
        delete: Delete,
    ) -> Result<(), Error> {
        let sql = self.statements.get(meta);
        let id = delete.id.to_string();
        let stmt = bind_value::<D>(sqlx::query(sql.delete.clone()), meta, meta.id, delete.id)?;
        let stmt = bind_value::<D>(stmt, meta, meta.version, version(delete.expected))?;
        let affected = self
            .execute(stmt)
            .await
            .map_err(|e| write_error::<D>(meta, &id, "delete", e))?;
        if affected == 0 {
            return Err(conflict(meta, id, delete.expected));
        }
        Ok(())
    }

    async fn update_one(
        &mut self,
        meta: &'static AggregateMeta,
        update: Update,
    ) -> Result<(), Error> {
        let sql = self.statements.get(meta);
        let mut row = update.row;
        let id_value = std::mem::replace(&mut row[meta.id], Value::Null);
        let id = id_value.to_string();
        let mut stmt = sqlx::query(sql.update.clone());
        for (i, value) in row.into_iter().enumerate() {
            if i != meta.id {
                stmt = bind_value::<D>(stmt, meta, i, value)?;
            }
        }
        let stmt = bind_value::<D>(stmt, meta, meta.id, id_value)?;
        let stmt = bind_value::<D>(stmt, meta, meta.version, version(update.expected))?;
        let affected = self
            .execute(stmt)
            .await
            .map_err(|e| write_error::<D>(meta, &id, "update", e))?;
        if affected == 0 {
            return Err(conflict(meta, id, update.expected));
        }
        Ok(())
    }

    async fn delete_many(
        &mut self,
        meta: &'static AggregateMeta,
        deletes: Vec<Delete>,
    ) -> Result<(), Error> {
        let total = deletes.len();
        let sql = self.statements.get(meta);
        let mut rest = deletes.into_iter();
        for (_, rows, size) in chunks::<D>(meta, Batch::Delete, total, true) {
            let chunk: Vec<Delete> = rest.by_ref().take(rows).collect();
            let first = chunk[0].id.to_string();
            let expected_first = chunk[0].expected;
            let mut stmt = batch_query::<D>(meta, &sql, Batch::Delete, size);
            for delete in &chunk {
                stmt = bind_value_copy::<D>(stmt, meta, meta.id, &delete.id)?;
                stmt = bind_value::<D>(stmt, meta, meta.version, version(delete.expected))?;
            }
            for _ in rows..size {
                stmt = bind_padding::<D>(stmt, meta, Batch::Delete)?;
            }
            let savepoint = self.set_savepoint().await?;
            let affected = self
                .execute(stmt)
                .await
                .map_err(|e| write_error::<D>(meta, &first, "delete", e))?;
            if affected != rows as u64 {
                // A version moved on, or a row is gone: undone, then row by
                // row in id order, whose first failure names the aggregate.
                self.rollback_to(savepoint).await?;
                for delete in chunk {
                    self.delete_one(meta, delete).await?;
                }
                return Err(conflict(meta, first, expected_first));
            }
        }
        Ok(())
    }

    /// Writes the updates in batches, each row guarded by its version and
    /// each batch's affected-row count checking them all: one statement
    /// for 1,000 rows, as the best hand-written batched update sends. A
    /// batch that falls short (a version moved on, a row is gone) is undone
    /// (savepoint) and written row by row, which reports the first failing
    /// write in id order, as row-by-row writes and the in-memory store do.
    ///
    /// No rows are locked beforehand: the guarded `UPDATE` takes each row's
    /// lock and checks its version under it (PostgreSQL re-checks the
    /// condition on the row's latest version after a wait; InnoDB's update
    /// reads the latest committed row), so a check cannot pass on a
    /// version another unit of work is replacing. Two units of work whose
    /// batches lock overlapping rows in different orders can deadlock; the
    /// database then fails one of them, a retryable error.
    async fn update_many(
        &mut self,
        meta: &'static AggregateMeta,
        updates: Vec<Update>,
    ) -> Result<(), Error> {
        let total = updates.len();
        let sql = self.statements.get(meta);
        let sizes: Vec<(usize, usize)> = match &sql.arrays {
            Some(_) => array_sizes(total).into_iter().map(|n| (n, n)).collect(),
            None => chunks::<D>(meta, Batch::Update, total, true)
                .map(|(_, rows, size)| (rows, size))
                .collect(),
        };
        let mut rest = updates.into_iter();
        for (rows, size) in sizes {
            let chunk: Vec<Update> = rest.by_ref().take(rows).collect();
            let first = chunk[0].id(meta).to_string();
            let expected_first = chunk[0].expected;
            let stmt = match &sql.arrays {
                Some(arrays) => {
                    match bind_update_arrays::<D>(arrays.update.clone(), meta, &chunk) {
                        Some(stmt) => stmt,
                        None => {
                            // A value no array type holds: row by row, for
                            // the database to judge each.
                            for update in chunk {
                                self.update_one(meta, update).await?;
                            }
                            continue;
                        }
                    }
                }
                None => {
                    let mut stmt = batch_query::<D>(meta, &sql, Batch::Update, size);
                    for update in &chunk {
                        stmt = bind_update::<D>(stmt, meta, update)?;
                    }
                    for _ in rows..size {
                        stmt = bind_padding::<D>(stmt, meta, Batch::Update)?;
                    }
                    stmt
                }
            };
            let savepoint = self.set_savepoint().await?;
            match self.execute(stmt).await {
                Ok(affected) if affected == rows as u64 => {}
                Ok(_) => {
                    self.rollback_to(savepoint).await?;
                    for update in chunk {
                        self.update_one(meta, update).await?;
                    }
                    return Err(conflict(meta, first, expected_first));
                }
                Err(e) if pinned_row_by_row::<D>(&e) => {
                    // Find which aggregate took a unique value, or holds
                    // the value the database rejected.
                    self.rollback_to(savepoint).await?;
                    for update in chunk {
                        self.update_one(meta, update).await?;
                    }
                }
                Err(e) => return Err(write_error::<D>(meta, &first, "update", e)),
            }
        }
        Ok(())
    }

    async fn insert(
        &mut self,
        meta: &'static AggregateMeta,
        rows: Vec<Vec<Value>>,
    ) -> Result<(), Error> {
        if rows.is_empty() {
            return Ok(());
        }
        let sql = self.statements.get(meta);
        if let (Some(arrays), true) = (&sql.arrays, rows.len() > 1) {
            return self.insert_arrays(meta, &arrays.insert, rows).await;
        }
        let total = rows.len();
        let mut rest = rows.into_iter();
        // The rest of the rows goes in one statement of its exact size, as
        // hand-written code sends it (a plain `VALUES` list, which SQLite
        // runs faster than the padded form), while the table keeps room for
        // its text; after that SQLite pads it up to a power of two with rows
        // of NULLs that the statement filters out, so that a service
        // committing many different numbers of rows prepares few texts.
        let pad = D::PAD_BATCHES && !sql.keeps_more_sizes();
        for (_, rows, size) in chunks::<D>(meta, Batch::Insert, total, pad) {
            let chunk: Vec<Vec<Value>> = rest.by_ref().take(rows).collect();
            if size == 1 {
                let row = chunk.into_iter().next().unwrap_or_default();
                self.insert_one(meta, row).await?;
                continue;
            }
            let savepoint = self.savepoint().await?;
            let batch = if rows < size {
                Batch::PaddedInsert
            } else {
                Batch::Insert
            };
            let mut stmt = batch_query::<D>(meta, &sql, batch, size);
            for row in &chunk {
                for (i, value) in row.iter().enumerate() {
                    stmt = bind_value_copy::<D>(stmt, meta, i, value)?;
                }
            }
            for _ in rows..size {
                stmt = bind_padding::<D>(stmt, meta, Batch::Insert)?;
            }
            match self.execute(stmt).await {
                Ok(_) => {}
                Err(e) if pinned_row_by_row::<D>(&e) => {
                    self.rollback_to(savepoint).await?;
                    for row in chunk {
                        self.insert_one(meta, row).await?;
                    }
                }
                Err(e) => {
                    let first = chunk[0][meta.id].to_string();
                    return Err(write_error::<D>(meta, &first, "insert", e));
                }
            }
        }
        Ok(())
    }

    /// PostgreSQL: the rows in array batches, one statement per
    /// [`MAX_ARRAY_ROWS`] rows, each after a savepoint so that a duplicate is
    /// pinned to its aggregate by re-running the batch row by row.
    async fn insert_arrays(
        &mut self,
        meta: &'static AggregateMeta,
        text: &sqlx::SqlStr,
        rows: Vec<Vec<Value>>,
    ) -> Result<(), Error> {
        for chunk in rows.chunks(MAX_ARRAY_ROWS) {
            let Some(stmt) = bind_insert_arrays::<D>(text.clone(), meta, chunk) else {
                // A value no array type holds: row by row, for the database
                // to judge each.
                for row in chunk {
                    self.insert_one(meta, row.clone()).await?;
                }
                continue;
            };
            let savepoint = self.savepoint().await?;
            match self.execute(stmt).await {
                Ok(_) => {}
                Err(e) if pinned_row_by_row::<D>(&e) => {
                    self.rollback_to(savepoint).await?;
                    for row in chunk {
                        self.insert_one(meta, row.clone()).await?;
                    }
                }
                Err(e) => {
                    let first = chunk[0][meta.id].to_string();
                    return Err(write_error::<D>(meta, &first, "insert", e));
                }
            }
        }
        Ok(())
    }

    async fn insert_one(
        &mut self,
        meta: &'static AggregateMeta,
        row: Vec<Value>,
    ) -> Result<(), Error> {
        let sql = self.statements.get(meta);
        let id = row[meta.id].to_string();
        let stmt = bind_row::<D>(sqlx::query(sql.insert.clone()), meta, row)?;
        self.execute(stmt)
            .await
            .map_err(|e| write_error::<D>(meta, &id, "insert", e))?;
        Ok(())
    }

    /// On PostgreSQL a failed statement aborts the whole transaction, so a
    /// batch that may need to be re-run row by row is preceded by a savepoint.
    /// SQLite and MySQL roll back only the failed statement.
    async fn savepoint(&mut self) -> Result<bool, Error> {
        if !D::FAILURE_ABORTS_TRANSACTION {
            return Ok(false);
        }
        self.set_savepoint().await
    }

    /// Sets the savepoint `uow_batch` on any database.
    async fn set_savepoint(&mut self) -> Result<bool, Error> {
        self.execute(sqlx::query("SAVEPOINT uow_batch"))
            .await
            .map_err(|e| crate::driver::connection_error("set a savepoint", e))?;
        Ok(true)
    }

    async fn rollback_to(&mut self, savepoint: bool) -> Result<(), Error> {
        if savepoint {
            self.execute(sqlx::query("ROLLBACK TO SAVEPOINT uow_batch"))
                .await
                .map_err(|e| crate::driver::connection_error("roll back to a savepoint", e))?;
        }
        Ok(())
    }
}

/// Binds one row of a batched update: id, expected version, non-id columns.
fn bind_update<D: Driver>(
    mut stmt: Stmt<D>,
    meta: &'static AggregateMeta,
    update: &Update,
) -> Result<Stmt<D>, Error> {
    stmt = bind_value_copy::<D>(stmt, meta, meta.id, update.id(meta))?;
    stmt = bind_value::<D>(stmt, meta, meta.version, version(update.expected))?;
    for (i, value) in update.row.iter().enumerate() {
        if i != meta.id {
            stmt = bind_value_copy::<D>(stmt, meta, i, value)?;
        }
    }
    Ok(stmt)
}

/// Binds the arrays of a batched update: the ids, the expected versions,
/// then each non-id column. `None` if a value fits no array.
fn bind_update_arrays<D: Driver>(
    text: sqlx::SqlStr,
    meta: &AggregateMeta,
    updates: &[Update],
) -> Option<Stmt<D>> {
    let mut args = Args::<D>::default();
    let ids = updates.iter().map(|u| u.id(meta));
    D::bind_array(&mut args, ids, meta.id_column().kind)?;
    let expected: Vec<Value> = updates.iter().map(|u| version(u.expected)).collect();
    D::bind_array(&mut args, expected.iter(), ColumnKind::BigInt)?;
    for (i, column) in meta.columns.iter().enumerate() {
        if i != meta.id {
            D::bind_array(&mut args, updates.iter().map(|u| &u.row[i]), column.kind)?;
        }
    }
    Some(sqlx::query_with(text, args))
}

/// Binds the arrays of a batched insert, one per column. `None` if a value
/// fits no array.
fn bind_insert_arrays<D: Driver>(
    text: sqlx::SqlStr,
    meta: &AggregateMeta,
    rows: &[Vec<Value>],
) -> Option<Stmt<D>> {
    let mut args = Args::<D>::default();
    for (i, column) in meta.columns.iter().enumerate() {
        D::bind_array(&mut args, rows.iter().map(|row| &row[i]), column.kind)?;
    }
    Some(sqlx::query_with(text, args))
}

/// Splits `total` rows into array batches of at most [`MAX_ARRAY_ROWS`].
fn array_sizes(total: usize) -> Vec<usize> {
    (0..total)
        .step_by(MAX_ARRAY_ROWS)
        .map(|offset| MAX_ARRAY_ROWS.min(total - offset))
        .collect()
}

/// Splits `total` rows into statements: full batches of the largest power
/// of two that fits the parameter limit, then the rest either, with `pad`,
/// in one batch of the next power of two filled up with rows of NULLs
/// (which match no row, and which a padded insert filters out) or, without,
/// in one statement of exactly the rows left (1,000 rows: one statement of
/// 1,000, as hand-written code sends them; its text is kept with the
/// others, up to a bound, see [`TableSql::batch`]).
/// Yields `(offset, rows, statement size)`.
fn chunks<D: Driver>(
    meta: &AggregateMeta,
    batch: Batch,
    total: usize,
    pad: bool,
) -> impl Iterator<Item = (usize, usize, usize)> {
    let per_row = batch.parameters_per_row(meta).max(1);
    let fit = (D::MAX_PARAMETERS / per_row).clamp(1, MAX_BATCH_ROWS);
    let max = 1 << (usize::BITS - 1 - fit.leading_zeros());
    let mut offset = 0;
    std::iter::from_fn(move || {
        let left = total - offset;
        if left == 0 {
            return None;
        }
        let (rows, size) = if left >= max {
            (max, max)
        } else if pad {
            (left, left.next_power_of_two())
        } else {
            (left, left)
        };
        let chunk = (offset, rows, size);
        offset += rows;
        Some(chunk)
    })
}

/// A batch statement over `size` rows, its parameter list allocated at its
/// full size up front rather than grown (and copied) while binding.
fn batch_query<D: Driver>(
    meta: &AggregateMeta,
    sql: &TableSql,
    batch: Batch,
    size: usize,
) -> Stmt<D> {
    D::query_with_capacity(
        sql.batch(meta, batch, size),
        size * batch.parameters_per_row(meta),
    )
}

/// Binds one row of NULLs to a padded batch.
fn bind_padding<D: Driver>(
    mut stmt: Stmt<D>,
    meta: &'static AggregateMeta,
    batch: Batch,
) -> Result<Stmt<D>, Error> {
    let null = |stmt, column| bind_value::<D>(stmt, meta, column, Value::Null);
    match batch {
        Batch::Delete => {
            stmt = null(stmt, meta.id)?;
            null(stmt, meta.version)
        }
        Batch::Update => {
            stmt = null(stmt, meta.id)?;
            stmt = null(stmt, meta.version)?;
            for i in 0..meta.columns.len() {
                if i != meta.id {
                    stmt = null(stmt, i)?;
                }
            }
            Ok(stmt)
        }
        Batch::Insert | Batch::PaddedInsert => {
            for i in 0..meta.columns.len() {
                stmt = null(stmt, i)?;
            }
            Ok(stmt)
        }
    }
}

fn version(v: u64) -> Value {
    Value::Int(i64::try_from(v).unwrap_or(i64::MAX))
}

fn conflict(meta: &AggregateMeta, id: String, expected: u64) -> Error {
    Error::Conflict {
        aggregate: meta.name,
        id,
        expected,
    }
}

/// A unique violation is a duplicate id or `unique` value of that aggregate;
/// anything else is a backend failure.
/// Whether a failed batch is re-run row by row, so that its error names the
/// row at fault: a duplicate, or a value the database rejected. Not after a
/// lost connection, a timeout or contention, which no row caused.
fn pinned_row_by_row<D: Driver>(e: &sqlx::Error) -> bool {
    match failure::<D>(e) {
        Failure::Unique | Failure::Other => true,
        Failure::Contention
        | Failure::LockTimeout
        | Failure::StatementTimeout
        | Failure::Connection
        | Failure::CachedPlan => false,
    }
}

pub(crate) fn write_error<D: Driver>(
    meta: &'static AggregateMeta,
    id: &str,
    what: &str,
    e: sqlx::Error,
) -> Error {
    match D::classify(&e) {
        Failure::Unique => Error::Duplicate {
            aggregate: meta.name,
            id: id.to_owned(),
            column: D::unique_column(&e, meta).unwrap_or_else(|| meta.id_column().name.to_owned()),
        },
        Failure::Contention
        | Failure::LockTimeout
        | Failure::StatementTimeout
        | Failure::Connection
        | Failure::CachedPlan
        | Failure::Other => backend::<D>(format!("{what} {} `{}`", meta.name, shortened(id)), e),
    }
}

/// An id as the text of a backend error shows it: a very long one (that the
/// database rejected, say) cut short rather than repeated whole.
fn shortened(id: &str) -> std::borrow::Cow<'_, str> {
    const SHOWN: usize = 64;
    match id.char_indices().nth(SHOWN) {
        Some((end, _)) => format!("{}… ({} bytes)", &id[..end], id.len()).into(),
        None => id.into(),
    }
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use super::*;
    use crate::driver::sqlite::SqliteDriver;
    use uow_core::backend::{ColumnMeta, ColumnRole};

    const META: AggregateMeta = AggregateMeta {
        name: "Thing",
        table: "things",
        columns: &[
            ColumnMeta {
                name: "id",
                field: "id",
                kind: ColumnKind::BigInt,
                nullable: false,
                role: ColumnRole::Id,
            },
            ColumnMeta {
                name: "version",
                field: "version",
                kind: ColumnKind::BigInt,
                nullable: false,
                role: ColumnRole::Version,
            },
        ],
        id: 0,
        version: 1,
        indexes: &[],
        children: &[],
    };

    #[test]
    fn unpadded_rows_take_one_statement_per_full_batch_and_one_for_the_rest() {
        let sizes: Vec<(usize, usize, usize)> =
            chunks::<SqliteDriver>(&META, Batch::Insert, 1000, false).collect();
        assert_eq!(
            sizes,
            [(0, 1000, 1000)],
            "one statement of exactly 1,000 rows"
        );
        let sizes: Vec<usize> = chunks::<SqliteDriver>(&META, Batch::Insert, 10_000, false)
            .map(|(_, rows, size)| {
                assert_eq!(rows, size);
                size
            })
            .collect();
        assert_eq!(
            sizes,
            [1024, 1024, 1024, 1024, 1024, 1024, 1024, 1024, 1024, 784],
            "nine full batches of 1024, then the remaining 784 in one"
        );
    }

    #[test]
    fn padded_batches_take_one_statement_for_the_rest() {
        let padded: Vec<_> = chunks::<SqliteDriver>(&META, Batch::Update, 1000, true).collect();
        assert_eq!(padded, [(0, 1000, 1024)], "1,000 rows and 24 rows of NULLs");
        let padded: Vec<_> = chunks::<SqliteDriver>(&META, Batch::Insert, 10_000, true).collect();
        assert_eq!(
            padded.len(),
            10,
            "nine full batches of 1024, then 784 rows padded to 1024"
        );
        assert_eq!(padded[9], (9 * 1024, 784, 1024));
        assert_eq!(
            padded.iter().map(|(_, rows, _)| rows).sum::<usize>(),
            10_000
        );
        assert_eq!(
            chunks::<SqliteDriver>(&META, Batch::Insert, 3, true).collect::<Vec<_>>(),
            [(0, 3, 4)]
        );
    }
}
