//! The port a backend implements: begin a transaction, read aggregates, and
//! apply one unit of work's changes atomically.
//!
//! Reads return decoded aggregates; writes arrive all at once at commit as a
//! [`ChangeSet`], already ordered (by table, then deletes, updates and inserts,
//! each by id) so every backend executes them in the same order, reports the
//! same first failure, and two concurrent units of work touch rows in the same
//! order.

use std::future::Future;

use crate::aggregate::{Aggregate, AggregateMeta};
use crate::children::{ChildChanges, ChildRows};
use crate::error::Error;
use crate::inbox::InboxRecord;
use crate::outbox::OutboxRecord;
use crate::query::{Filter, Select};
use crate::unit_of_work::{CommitOutcome, UnitId};
use crate::value::Value;

/// A place aggregates are stored: the in-memory store, or a database.
///
/// Units of work are begun from a store (`Allocation::begin(&store)`); service
/// functions are generic over `S: Store` so tests run them on
/// [`InMemoryStore`](crate::InMemoryStore) and production on `uow_sqlx::SqlxStore`.
pub trait Store: Send + Sync + 'static {
    /// One unit of work's transaction.
    type Tx: Transaction;

    /// Begins a transaction for one unit of work.
    fn begin(&self) -> impl Future<Output = Result<Self::Tx, Error>> + Send;

    /// Begins a transaction for a read-only unit of work (`begin_read_only`
    /// of a `#[unit_of_work]`): reads as [`begin`](Store::begin)'s do, and
    /// a database store opens no read-write transaction for it
    /// (PostgreSQL and MySQL/MariaDB begin a `READ ONLY` one). Its unit of
    /// work refuses to commit changes ([`Error::ReadOnly`]). By default
    /// the same as `begin`.
    fn begin_read_only(&self) -> impl Future<Output = Result<Self::Tx, Error>> + Send {
        self.begin()
    }

    /// Whether the commit of unit of work `unit` was stored: for a caller
    /// whose own timeout dropped a `commit()` future, or that got
    /// [`Error::CommitOutcomeUnknown`], before it runs the unit again.
    ///
    /// A commit still in flight is waited for. The answer is final: once it
    /// says [`CommitOutcome::NotCommitted`], that commit can no longer be
    /// stored (its commit fails), so running the unit of work again applies
    /// it once. Markers are kept for a limited time (uow-sqlx's
    /// `StoreOptions::commit_markers_kept`, one hour by default): ask within it.
    fn commit_outcome(
        &self,
        unit: &UnitId,
    ) -> impl Future<Output = Result<CommitOutcome, Error>> + Send;
}

/// One unit of work's view of a store. Shared (behind an `Arc`) by the
/// repositories of the unit of work, hence `&self` everywhere.
///
/// Dropping a transaction without a successful [`commit`](Transaction::commit)
/// discards it: nothing of it is stored.
pub trait Transaction: Send + Sync + 'static {
    /// The id of the unit of work this transaction belongs to, made at
    /// [`Store::begin`] and written with its commit.
    fn unit_id(&self) -> &UnitId;

    /// Loads the aggregates matching `query`, ordered by id (a
    /// [`Query::Select`] in its own order).
    fn fetch<A: Aggregate>(
        &self,
        query: Query,
    ) -> impl Future<Output = Result<Vec<A>, Error>> + Send;

    /// [`fetch`](Transaction::fetch), each aggregate with its snapshot
    /// when the store kept the rows it read it from (see [`Loaded`]). By
    /// default none is kept.
    fn fetch_loaded<A: Aggregate>(
        &self,
        query: Query,
    ) -> impl Future<Output = Result<Vec<Loaded<A>>, Error>> + Send {
        let fetching = self.fetch::<A>(query);
        async move {
            Ok(fetching
                .await?
                .into_iter()
                .map(Loaded::without_snapshot)
                .collect())
        }
    }

    /// How many stored rows of `A`'s table match `filter` (committed
    /// state).
    fn count<A: Aggregate>(
        &self,
        filter: Filter,
    ) -> impl Future<Output = Result<u64, Error>> + Send;

    /// Applies `changes` atomically and ends the transaction: either every
    /// write is stored or none is. A version check that matches no row fails
    /// with [`Error::Conflict`]; an insert of a taken id or unique value with
    /// [`Error::Duplicate`].
    fn commit(&self, changes: ChangeSet) -> impl Future<Output = Result<(), Error>> + Send;
}

/// An aggregate as [`Transaction::fetch_loaded`] returns it: with its row
/// and the rows of its children as they were read, when the store kept
/// them, so that the unit of work takes them as the snapshot its changes
/// are checked against instead of encoding the aggregate again.
///
/// A store keeps only rows whose values are what
/// [`encode_row`](crate::backend::encode_row) and
/// [`encode_children`](crate::backend::encode_children) give for the
/// aggregate it decoded from them (no JSON column a database may hand back
/// in another form). A column type whose `ColumnValue` changes the value it
/// reads (one that normalises text, say) makes the stored form differ from
/// the encoded one: the next commit writes the encoded form, as a change.
#[derive(Debug)]
pub struct Loaded<A> {
    /// The aggregate.
    pub aggregate: A,
    /// Its row, the values of [`AggregateMeta::columns`] as stored; `None`
    /// when the store did not keep it.
    pub row: Option<Vec<Value>>,
    /// Its child rows, one list per child table, in the order
    /// [`encode_children`](crate::backend::encode_children) writes them
    /// (each parent's children in position order, parents in their own
    /// order), with the values as stored; `None` when the store did not
    /// keep them.
    pub children: Option<ChildRows>,
}

impl<A> Loaded<A> {
    /// An aggregate whose snapshot the unit of work takes itself.
    pub fn without_snapshot(aggregate: A) -> Self {
        Loaded {
            aggregate,
            row: None,
            children: None,
        }
    }
}

/// Which rows a [`Transaction::fetch`] loads.
#[derive(Clone, Debug, PartialEq)]
pub enum Query {
    /// The row with this id, if any.
    Id(Value),
    /// Rows whose column (index into [`AggregateMeta::columns`]) equals the
    /// value; `Value::Null` matches NULL.
    Column {
        /// The column index.
        column: usize,
        /// The value to match.
        value: Value,
    },
    /// Rows having a child row in child table `table` (index into the
    /// aggregate's [`ChildLayout`](crate::backend::ChildLayout)) whose
    /// column `column` (index into that table's
    /// [`stored`](crate::backend::ChildTable::stored) columns) equals the
    /// value, the lowest ids first.
    Child {
        /// The child table.
        table: usize,
        /// The column index in the table's stored row.
        column: usize,
        /// The value to match (never NULL).
        value: Value,
    },
    /// All rows, at most `limit`, the lowest ids first.
    All {
        /// The maximum number of rows.
        limit: u64,
    },
    /// A typed query: the rows matching its filter, in its order (then by
    /// id), at most its limit; with the semantics of the
    /// [`query`](crate::query) module, which every store follows.
    Select(Select),
}

/// All writes of one unit of work, grouped by table.
#[derive(Debug, Default)]
pub struct ChangeSet {
    tables: Vec<TableChanges>,
    outbox: Vec<OutboxRecord>,
    inbox: Option<InboxRecord>,
}

impl ChangeSet {
    /// An empty change set.
    pub fn new() -> Self {
        ChangeSet::default()
    }

    /// `true` when nothing is to be written.
    pub fn is_empty(&self) -> bool {
        self.tables.iter().all(TableChanges::is_empty)
            && self.outbox.is_empty()
            && self.inbox.is_none()
    }

    /// The aggregate whose one update is all this change set writes, if
    /// that is so: one changed row of one table, and no delete, insert,
    /// child row, outbox or inbox record beside it. A store may write such
    /// a commit as a single statement; anything else needs a transaction.
    pub fn lone_update(&self) -> Option<&'static AggregateMeta> {
        if !self.outbox.is_empty() || self.inbox.is_some() {
            return None;
        }
        let mut changed = self.tables.iter().filter(|t| !t.is_empty());
        match (changed.next(), changed.next()) {
            (Some(t), None)
                if t.updates.len() == 1
                    && t.deletes.is_empty()
                    && t.inserts.is_empty()
                    && t.children.iter().all(ChildChanges::is_empty) =>
            {
                Some(t.meta)
            }
            _ => None,
        }
    }

    /// The message this commit handled, to record in the inbox (set by
    /// [`Inbox::handle`](crate::inbox::Inbox::handle)).
    pub(crate) fn set_inbox(&mut self, record: InboxRecord) {
        self.inbox = Some(record);
    }

    /// The message this commit handled, if it runs in an
    /// [`Inbox`](crate::inbox::Inbox) handler: the store inserts it into its
    /// inbox before any other write, and fails the whole commit with
    /// [`Error::AlreadyReceived`] if the inbox holds it already.
    pub fn inbox(&self) -> Option<&InboxRecord> {
        self.inbox.as_ref()
    }

    /// The events to store in the outbox, written after every aggregate in
    /// the same transaction.
    pub(crate) fn set_outbox(&mut self, records: Vec<OutboxRecord>) {
        self.outbox = records;
    }

    /// The outbox records of the commit.
    pub fn outbox(&self) -> &[OutboxRecord] {
        &self.outbox
    }

    /// Adds one table's changes (called once per repository by generated
    /// code; not a public API).
    #[doc(hidden)]
    pub fn push(&mut self, changes: TableChanges) {
        if !changes.is_empty() {
            self.tables.push(changes);
        }
    }

    /// Orders the tables by name, which with each table's id order gives the
    /// deterministic write order.
    pub(crate) fn sort(&mut self) {
        self.tables.sort_by_key(|t| t.meta.table);
    }

    /// The tables, in write order.
    pub fn tables(&self) -> &[TableChanges] {
        &self.tables
    }

    /// The tables, in write order, by value (backends move the rows' values
    /// into their bind parameters).
    pub fn into_tables(self) -> Vec<TableChanges> {
        self.tables
    }

    /// The tables and the outbox records, by value.
    pub fn into_parts(self) -> (Vec<TableChanges>, Vec<OutboxRecord>) {
        (self.tables, self.outbox)
    }

    /// Total number of row writes.
    pub fn len(&self) -> usize {
        self.tables
            .iter()
            .map(|t| {
                t.deletes.len()
                    + t.updates.len()
                    + t.inserts.len()
                    + t.children.iter().map(ChildChanges::len).sum::<usize>()
            })
            .sum::<usize>()
            + self.outbox.len()
            + usize::from(self.inbox.is_some())
    }
}

/// The writes to one table, each list ordered by id.
#[derive(Debug)]
pub struct TableChanges {
    /// The aggregate stored in the table.
    pub meta: &'static AggregateMeta,
    /// Rows to delete, version-checked. Executed first.
    pub deletes: Vec<Delete>,
    /// Rows to update, version-checked. Executed second.
    pub updates: Vec<Update>,
    /// Rows to insert (full rows, version 1). Executed after the updates.
    pub inserts: Vec<Vec<Value>>,
    /// The writes to the aggregate's child tables, one entry per table of
    /// its [`ChildLayout`](crate::backend::ChildLayout) (empty when it has
    /// no children). Executed after the root's writes: first every table's
    /// deletes, children before their parents (the tables in reverse
    /// order), then each table's updates and inserts, parents before their
    /// children. A root whose child changed is among the `updates`
    /// (version-checked), so the child writes land only with its check.
    /// Removing a root removes its children (no child deletes are listed
    /// for it).
    pub children: Vec<ChildChanges>,
}

impl TableChanges {
    /// No writes yet for the aggregate.
    pub fn new(meta: &'static AggregateMeta) -> Self {
        TableChanges {
            meta,
            deletes: Vec::new(),
            updates: Vec::new(),
            inserts: Vec::new(),
            children: meta
                .child_layout()
                .tables
                .iter()
                .map(ChildChanges::new)
                .collect(),
        }
    }

    /// `true` when there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.deletes.is_empty()
            && self.updates.is_empty()
            && self.inserts.is_empty()
            && self.children.iter().all(ChildChanges::is_empty)
    }
}

/// `DELETE ... WHERE id = ? AND version = ?`.
#[derive(Debug)]
pub struct Delete {
    /// The id.
    pub id: Value,
    /// The version loaded; the delete fails with a conflict if it changed.
    pub expected: u64,
}

/// `UPDATE ... SET <all columns> WHERE id = ? AND version = ?`.
#[derive(Debug)]
pub struct Update {
    /// The full new row; its version column holds `expected + 1`.
    pub row: Vec<Value>,
    /// The version loaded.
    pub expected: u64,
}

impl Update {
    /// The id value of the row.
    pub fn id<'a>(&'a self, meta: &AggregateMeta) -> &'a Value {
        &self.row[meta.id]
    }
}

/// A store shared behind an `Arc` (the usual state of a web service) is a
/// store: `Allocation::begin(&state.store)` works with `state.store:
/// Arc<SqlxStore>` as with the store itself.
impl<S: Store> Store for std::sync::Arc<S> {
    type Tx = S::Tx;

    fn begin(&self) -> impl Future<Output = Result<Self::Tx, Error>> + Send {
        S::begin(self)
    }

    fn begin_read_only(&self) -> impl Future<Output = Result<Self::Tx, Error>> + Send {
        S::begin_read_only(self)
    }

    fn commit_outcome(
        &self,
        unit: &UnitId,
    ) -> impl Future<Output = Result<CommitOutcome, Error>> + Send {
        S::commit_outcome(self, unit)
    }
}

/// A `'static` reference to a store (a leaked or `static` one) is a store.
impl<S: Store> Store for &'static S {
    type Tx = S::Tx;

    fn begin(&self) -> impl Future<Output = Result<Self::Tx, Error>> + Send {
        S::begin(self)
    }

    fn begin_read_only(&self) -> impl Future<Output = Result<Self::Tx, Error>> + Send {
        S::begin_read_only(self)
    }

    fn commit_outcome(
        &self,
        unit: &UnitId,
    ) -> impl Future<Output = Result<CommitOutcome, Error>> + Send {
        S::commit_outcome(self, unit)
    }
}
