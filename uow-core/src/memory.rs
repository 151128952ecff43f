//! The in-memory store: a fake held to the same contract as the databases.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::{Future, ready};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::aggregate::{Aggregate, AggregateMeta, decode_row};
use crate::error::BackendError;
use crate::error::Error;
use crate::outbox::{DeadMessage, OutboxClaim, OutboxMessage, OutboxStore, now_micros};
use crate::query::Filter;
use crate::store::{ChangeSet, Query, Store, Transaction};
use crate::unit_of_work::{CommitOutcome, UnitId};
use crate::value::Value;

/// A store that keeps its tables in memory, for unit tests of services and
/// domain code.
///
/// It behaves the way the SQL stores do, which is what makes tests on it
/// worth trusting (the same contract suite runs against both):
///
/// - rows are stored in their encoded form, so a load returns a fresh copy
///   and a value that a database would reject (a `u64` above `i64::MAX`) is
///   rejected here too;
/// - each read sees what was committed at the time of the read, never the
///   staged writes of a unit of work that has not committed;
/// - a commit applies all writes of the unit of work or none, checking each
///   update and delete against the version loaded, ids and `unique` columns
///   for duplicates, in the same order as the SQL stores;
/// - the outbox of a unit of work declared with `outbox` is stored with its
///   aggregates, and relays claim and deliver it as they do from a database.
///
/// Cloning gives another handle to the same tables; it is safe to use from
/// several units of work and threads at once.
///
/// ```
/// let store = uow_core::InMemoryStore::new();
/// let same_tables = store.clone();
/// # let _ = same_tables;
/// ```
#[derive(Clone, Debug, Default)]
pub struct InMemoryStore {
    tables: Arc<Mutex<Tables>>,
}

impl InMemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        InMemoryStore::default()
    }

    /// How many rows the table of `A` holds.
    pub fn count<A: Aggregate>(&self) -> usize {
        lock(&self.tables)
            .by_name
            .get(A::META.table)
            .map_or(0, |t| t.rows.len())
    }
}

/// One unit of work's transaction on an [`InMemoryStore`]. Nothing is staged
/// here: the repositories hold the unit's changes until commit.
#[derive(Debug)]
pub struct InMemoryTransaction {
    tables: Arc<Mutex<Tables>>,
    unit: UnitId,
}

/// Messages of the in-memory outbox claimed by one relay.
#[derive(Debug)]
pub struct InMemoryClaim {
    tables: Arc<Mutex<Tables>>,
    messages: Vec<OutboxMessage>,
    marks: Vec<(i64, Mark)>,
    finished: bool,
}

/// What became of a claimed message.
#[derive(Debug)]
enum Mark {
    Delivered,
    Failed { error: String, retry_at: i64 },
    Dead { error: String },
}

impl OutboxStore for InMemoryStore {
    type Claim = InMemoryClaim;

    fn claim(
        &self,
        relay: &str,
        limit: usize,
    ) -> impl Future<Output = Result<InMemoryClaim, Error>> + Send {
        let messages = lock(&self.tables).claim(relay, limit, now_micros());
        ready(Ok(InMemoryClaim {
            tables: Arc::clone(&self.tables),
            messages,
            marks: Vec::new(),
            finished: false,
        }))
    }

    fn dead_messages(&self) -> impl Future<Output = Result<Vec<DeadMessage>, Error>> + Send {
        let tables = lock(&self.tables);
        let dead = tables
            .outbox
            .iter()
            .filter_map(|stored| {
                Some(DeadMessage {
                    message: stored.message.clone(),
                    last_error: stored.last_error.clone().unwrap_or_default(),
                    dead_at: stored.dead_at?,
                })
            })
            .collect();
        ready(Ok(dead))
    }

    fn requeue(&self, seq: i64) -> impl Future<Output = Result<bool, Error>> + Send {
        let mut tables = lock(&self.tables);
        let found = tables
            .outbox
            .iter_mut()
            .find(|stored| stored.message.seq == seq && stored.dead_at.is_some());
        let requeued = match found {
            Some(stored) => {
                stored.dead_at = None;
                stored.message.attempts = 0;
                stored.next_attempt_at = 0;
                true
            }
            None => false,
        };
        ready(Ok(requeued))
    }
}

impl InMemoryClaim {
    fn release(&mut self) {
        let mut tables = lock(&self.tables);
        let now = now_micros();
        for stored in &mut tables.outbox {
            if !self.messages.iter().any(|m| m.seq == stored.message.seq) {
                continue;
            }
            stored.claimed_by = None;
            match self
                .marks
                .iter()
                .find(|(seq, _)| *seq == stored.message.seq)
            {
                Some((_, Mark::Delivered)) => stored.delivered_at = Some(now),
                Some((_, Mark::Failed { error, retry_at })) => {
                    stored.message.attempts += 1;
                    stored.last_error = Some(error.clone());
                    stored.next_attempt_at = *retry_at;
                }
                Some((_, Mark::Dead { error })) => {
                    stored.message.attempts += 1;
                    stored.last_error = Some(error.clone());
                    stored.dead_at = Some(now);
                }
                None => {}
            }
        }
        self.finished = true;
    }
}

impl OutboxClaim for InMemoryClaim {
    fn messages(&self) -> &[OutboxMessage] {
        &self.messages
    }

    fn delivered(&mut self, seq: i64) {
        self.marks.push((seq, Mark::Delivered));
    }

    fn failed(&mut self, seq: i64, error: String, retry_at: i64) {
        self.marks.push((seq, Mark::Failed { error, retry_at }));
    }

    fn dead(&mut self, seq: i64, error: String) {
        self.marks.push((seq, Mark::Dead { error }));
    }

    fn finish(mut self) -> impl Future<Output = Result<(), Error>> + Send {
        self.release();
        ready(Ok(()))
    }
}

impl Drop for InMemoryClaim {
    /// A claim dropped unfinished (a crashed relay) marks nothing: its
    /// messages are delivered again by the next claim.
    fn drop(&mut self) {
        if !self.finished {
            self.marks.clear();
            self.release();
        }
    }
}

impl Store for InMemoryStore {
    type Tx = InMemoryTransaction;

    fn begin(&self) -> impl Future<Output = Result<Self::Tx, Error>> + Send {
        ready(Ok(InMemoryTransaction {
            tables: Arc::clone(&self.tables),
            unit: UnitId::new(),
        }))
    }

    fn commit_outcome(
        &self,
        unit: &UnitId,
    ) -> impl Future<Output = Result<CommitOutcome, Error>> + Send {
        ready(Ok(lock(&self.tables).markers.outcome(unit)))
    }
}

impl Transaction for InMemoryTransaction {
    fn unit_id(&self) -> &UnitId {
        &self.unit
    }

    fn fetch<A: Aggregate>(
        &self,
        query: Query,
    ) -> impl Future<Output = Result<Vec<A>, Error>> + Send {
        ready(lock(&self.tables).fetch::<A>(&query))
    }

    fn count<A: Aggregate>(
        &self,
        filter: Filter,
    ) -> impl Future<Output = Result<u64, Error>> + Send {
        ready(Ok(lock(&self.tables).count::<A>(&filter)))
    }

    fn commit(&self, changes: ChangeSet) -> impl Future<Output = Result<(), Error>> + Send {
        // All under one lock and before the first poll: a commit whose
        // future is dropped has either happened whole or not at all.
        let mut tables = lock(&self.tables);
        if changes.is_empty() {
            return ready(Ok(()));
        }
        if tables.markers.is_fenced(&self.unit) {
            return ready(Err(Error::Backend(
                BackendError::new(
                    "commit",
                    format!(
                        "the outcome of unit of work `{}` was asked for and answered `not committed`",
                        self.unit
                    ),
                )
                .rolled_back()
                .retryable(),
            )));
        }
        let outcome = tables.apply(&changes);
        if outcome.is_ok() {
            tables.markers.committed(&self.unit);
        }
        ready(outcome)
    }
}

/// No user code runs while the lock is held and a failed commit is undone
/// before the lock is released, so a poisoned lock still guards whole tables.
fn lock(tables: &Mutex<Tables>) -> MutexGuard<'_, Tables> {
    tables.lock().unwrap_or_else(PoisonError::into_inner)
}

#[derive(Debug, Default)]
struct Tables {
    by_name: HashMap<&'static str, Table>,
    outbox: Vec<StoredMessage>,
    markers: Markers,
}

/// The commit markers of the in-memory store, as the SQL stores keep them:
/// which units of work committed, and which were answered "not committed"
/// (fenced: they can no longer commit). Kept for an hour.
#[derive(Debug, Default)]
struct Markers {
    /// Unit id → (fenced, when, in microseconds since the epoch).
    by_unit: HashMap<UnitId, (bool, i64)>,
    written: u64,
}

impl Markers {
    const KEPT_MICROS: i64 = 3_600_000_000;

    fn is_fenced(&self, unit: &UnitId) -> bool {
        self.by_unit.get(unit).is_some_and(|(fenced, _)| *fenced)
    }

    fn committed(&mut self, unit: &UnitId) {
        self.write(unit, false);
    }

    fn outcome(&mut self, unit: &UnitId) -> CommitOutcome {
        match self.by_unit.get(unit) {
            Some((false, _)) => CommitOutcome::Committed,
            Some((true, _)) => CommitOutcome::NotCommitted,
            None => {
                self.write(unit, true);
                CommitOutcome::NotCommitted
            }
        }
    }

    fn write(&mut self, unit: &UnitId, fenced: bool) {
        let now = now_micros();
        self.by_unit.insert(unit.clone(), (fenced, now));
        self.written += 1;
        if self.written.is_multiple_of(1024) {
            self.by_unit
                .retain(|_, (_, at)| *at >= now - Self::KEPT_MICROS);
        }
    }
}

/// An outbox row with its delivery state.
#[derive(Debug)]
struct StoredMessage {
    message: OutboxMessage,
    next_attempt_at: i64,
    delivered_at: Option<i64>,
    last_error: Option<String>,
    claimed_by: Option<String>,
    /// Set aside after too many failed attempts: not delivered, and not
    /// holding back its aggregate's later messages.
    dead_at: Option<i64>,
}

#[derive(Debug, Default)]
struct Table {
    /// Rows by id, in id order (the order SQL `ORDER BY id` gives).
    rows: BTreeMap<Value, Vec<Value>>,
    /// For each unique column, in column order (the order a violation is
    /// looked for, as the databases check their constraints): value → id of
    /// the row holding it.
    unique: BTreeMap<usize, HashMap<Value, Value>>,
}

/// A row as it was before one write of a commit, to undo a failed commit.
struct Undo {
    table: &'static str,
    meta: &'static AggregateMeta,
    id: Value,
    previous: Option<Vec<Value>>,
}

impl Tables {
    fn fetch<A: Aggregate>(&self, query: &Query) -> Result<Vec<A>, Error> {
        let Some(table) = self.by_name.get(A::META.table) else {
            return Ok(Vec::new());
        };
        let decode = |row: &Vec<Value>| decode_row::<A, [Value]>(row);
        match query {
            Query::Id(id) => table.rows.get(id).map(decode).into_iter().collect(),
            Query::Column { column, value } => table
                .rows
                .values()
                .filter(|row| row.get(*column) == Some(value))
                .map(decode)
                .collect(),
            Query::All { limit } => table
                .rows
                .values()
                .take(usize::try_from(*limit).unwrap_or(usize::MAX))
                .map(decode)
                .collect(),
            Query::Select(select) => {
                let mut rows: Vec<&Vec<Value>> = table
                    .rows
                    .values()
                    .filter(|row| select.filter.matches(row))
                    .collect();
                rows.sort_by(|a, b| select.compare(A::META, a, b));
                let limit = select
                    .limit
                    .map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
                rows.into_iter().take(limit).map(decode).collect()
            }
        }
    }

    fn count<A: Aggregate>(&self, filter: &Filter) -> u64 {
        self.by_name.get(A::META.table).map_or(0, |table| {
            table
                .rows
                .values()
                .filter(|row| filter.matches(row))
                .count() as u64
        })
    }

    fn apply(&mut self, changes: &ChangeSet) -> Result<(), Error> {
        let mut undo = Vec::with_capacity(changes.len());
        let outcome = self.apply_all(changes, &mut undo);
        if outcome.is_err() {
            for step in undo.into_iter().rev() {
                self.table(step.table)
                    .put(step.meta, step.id, step.previous);
            }
            return outcome;
        }
        // The outbox rows come last, as in the SQL stores: they are stored
        // only with every aggregate write of the commit.
        for record in changes.outbox() {
            let seq = self.outbox.len() as i64 + 1;
            self.outbox.push(StoredMessage {
                message: OutboxMessage {
                    seq,
                    record: record.clone(),
                    attempts: 0,
                },
                next_attempt_at: 0,
                delivered_at: None,
                last_error: None,
                claimed_by: None,
                dead_at: None,
            });
        }
        Ok(())
    }

    /// The deliverable messages, as `OutboxStore::claim` defines them: in
    /// sequence order, and for each aggregate only a run starting at its
    /// oldest undelivered message.
    fn claim(&mut self, relay: &str, limit: usize, now: i64) -> Vec<OutboxMessage> {
        let mut blocked: HashSet<(String, String)> = HashSet::new();
        let mut claimed = Vec::new();
        for stored in &mut self.outbox {
            if stored.delivered_at.is_some() || stored.dead_at.is_some() {
                continue;
            }
            let aggregate = (
                stored.message.record.aggregate_type.clone(),
                stored.message.record.aggregate_id.clone(),
            );
            if blocked.contains(&aggregate) {
                continue;
            }
            if claimed.len() < limit && stored.claimed_by.is_none() && stored.next_attempt_at <= now
            {
                stored.claimed_by = Some(relay.to_owned());
                claimed.push(stored.message.clone());
            } else {
                // Not claimable now: the aggregate's later messages wait.
                blocked.insert(aggregate);
            }
        }
        claimed
    }

    fn apply_all(&mut self, changes: &ChangeSet, undo: &mut Vec<Undo>) -> Result<(), Error> {
        for change in changes.tables() {
            let meta = change.meta;
            let table = self.table(meta.table);
            for delete in &change.deletes {
                table.check_version(meta, &delete.id, delete.expected)?;
                let previous = table.put(meta, delete.id.clone(), None);
                undo.push(Undo {
                    table: meta.table,
                    meta,
                    id: delete.id.clone(),
                    previous,
                });
            }
            for update in &change.updates {
                let id = update.id(meta);
                table.check_version(meta, id, update.expected)?;
                table.check_unique(meta, &update.row)?;
                let previous = table.put(meta, id.clone(), Some(update.row.clone()));
                undo.push(Undo {
                    table: meta.table,
                    meta,
                    id: id.clone(),
                    previous,
                });
            }
            for row in &change.inserts {
                let id = &row[meta.id];
                if table.rows.contains_key(id) {
                    return Err(Error::Duplicate {
                        aggregate: meta.name,
                        id: id.to_string(),
                        column: meta.id_column().name.to_owned(),
                    });
                }
                table.check_unique(meta, row)?;
                let previous = table.put(meta, id.clone(), Some(row.clone()));
                undo.push(Undo {
                    table: meta.table,
                    meta,
                    id: id.clone(),
                    previous,
                });
            }
        }
        Ok(())
    }

    fn table(&mut self, name: &'static str) -> &mut Table {
        self.by_name.entry(name).or_default()
    }
}

impl Table {
    /// `WHERE id = ? AND version = ?` matched no row → conflict.
    fn check_version(&self, meta: &AggregateMeta, id: &Value, expected: u64) -> Result<(), Error> {
        let stored = self.rows.get(id).map(|row| &row[meta.version]);
        match stored {
            Some(Value::Int(v)) if u64::try_from(*v).ok() == Some(expected) => Ok(()),
            _ => Err(Error::Conflict {
                aggregate: meta.name,
                id: id.to_string(),
                expected,
            }),
        }
    }

    /// A `unique` column value held by another row → duplicate. NULLs never
    /// collide, as in SQL.
    fn check_unique(&self, meta: &AggregateMeta, row: &[Value]) -> Result<(), Error> {
        let id = &row[meta.id];
        for (column, index) in &self.unique {
            let value = &row[*column];
            if value.is_null() {
                continue;
            }
            if index.get(value).is_some_and(|holder| holder != id) {
                return Err(Error::Duplicate {
                    aggregate: meta.name,
                    id: id.to_string(),
                    column: meta.columns[*column].name.to_owned(),
                });
            }
        }
        Ok(())
    }

    /// Replaces the row `id` (None deletes it), keeping the unique indexes in
    /// step, and returns what was there.
    fn put(
        &mut self,
        meta: &AggregateMeta,
        id: Value,
        row: Option<Vec<Value>>,
    ) -> Option<Vec<Value>> {
        if self.unique.is_empty() {
            for (i, column) in meta.columns.iter().enumerate() {
                if column.is_unique() {
                    self.unique.insert(i, HashMap::new());
                }
            }
        }
        let previous = match row {
            Some(row) => {
                for (column, index) in &mut self.unique {
                    if !row[*column].is_null() {
                        index.insert(row[*column].clone(), id.clone());
                    }
                }
                self.rows.insert(id, row)
            }
            None => self.rows.remove(&id),
        };
        if let Some(old) = &previous {
            for (column, index) in &mut self.unique {
                let still_held = self
                    .rows
                    .get(&old[meta.id])
                    .is_some_and(|now| now[*column] == old[*column]);
                if !still_held && index.get(&old[*column]) == Some(&old[meta.id]) {
                    index.remove(&old[*column]);
                }
            }
        }
        previous
    }
}
