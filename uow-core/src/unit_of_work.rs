//! The unit of work: one atomic business operation over several repositories.
//!
//! `#[unit_of_work]` turns a struct whose fields name aggregates into a unit
//! of work: `begin(&store)`, one [`Repository`](crate::Repository) per field,
//! `commit()` and rollback by default. The behaviour lives here and in the
//! repository; the macro only wires the fields.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use tracing::Instrument;

use crate::aggregate::AggregateMeta;
use crate::error::Error;
use crate::outbox::{EventSource, outbox_records};
use crate::store::{ChangeSet, Store, Transaction};

/// What every `#[unit_of_work]` struct implements, for code that is generic
/// over units of work (the [`retry`](crate::retry) helper, message buses).
///
/// The generated struct also has inherent `begin`, `commit` and `rollback`
/// methods, so calling them needs no import of this trait.
///
/// **Rollback by default.** A unit of work that is dropped without a
/// successful `commit()` — an early `?` return, a panic, a plain drop — stores
/// nothing. `commit()` consumes the unit of work, so it cannot be used after.
pub trait UnitOfWork: Sized + Send {
    /// The store it runs on.
    type Store: Store;
    /// The domain events its `commit()` returns.
    type Event: Send + 'static;

    /// The aggregates it holds repositories of, in field order: what schema
    /// tools create or print (`store.create_tables(Allocation::<S>::AGGREGATES)`).
    const AGGREGATES: &'static [&'static AggregateMeta];

    /// Whether it stores its events in the outbox (`#[unit_of_work(outbox)]`),
    /// so schema tools create and check the outbox table too.
    const OUTBOX: bool = false;

    /// Begins a unit of work on `store`.
    fn begin(store: &Self::Store) -> impl Future<Output = Result<Self, Error>> + Send;

    /// Writes every change atomically, checking versions, and returns the
    /// domain events recorded by the aggregates it loaded or added.
    fn commit(self) -> impl Future<Output = Result<Vec<Self::Event>, Error>> + Send;
}

/// The id of one unit of work, made when it begins (a UUID version 7, as
/// text).
///
/// A SQL store writes it as a commit marker in the commit's own transaction,
/// which is how it finds out whether a commit whose connection failed was
/// stored. A caller that gives up waiting for a commit (its own timeout drops
/// the `commit()` future; the commit then runs to its end in the background)
/// takes the id before committing (`uow.unit_id()`), and asks
/// [`Store::commit_outcome`](crate::Store::commit_outcome) before running the
/// unit of work again.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UnitId(String);

impl UnitId {
    /// A new, unique id.
    pub fn new() -> Self {
        UnitId(crate::outbox::new_event_id())
    }

    /// The id as text, as stored in the commit marker.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for UnitId {
    fn default() -> Self {
        UnitId::new()
    }
}

impl fmt::Display for UnitId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether the commit of a unit of work was stored, as
/// [`Store::commit_outcome`](crate::Store::commit_outcome) finds out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommitOutcome {
    /// The commit was stored, whole.
    Committed,
    /// Nothing of the unit of work was stored, and the store has made sure it
    /// never will be (a commit still in flight fails): running the unit of
    /// work again applies it once. A unit of work that had nothing to write
    /// leaves no marker and reads as not committed.
    NotCommitted,
}

/// The state of one unit of work behind its repositories: the store
/// transaction they share, and the tracing span its lifecycle is logged in.
///
/// At debug level, under a `unit_of_work` span named after the struct, a
/// unit of work logs `committed` (with the number of writes and events),
/// `conflict` or `rolled back` (with the error), or `dropped without commit`.
#[doc(hidden)]
pub struct UnitState<S: Store> {
    tx: Arc<S::Tx>,
    span: tracing::Span,
    finished: bool,
    /// Begun with `begin_read_only`: commits no writes.
    read_only: bool,
}

impl<S: Store> UnitState<S> {
    /// Begins the store transaction of unit of work `name`.
    pub async fn begin(store: &S, name: &'static str) -> Result<Self, Error> {
        let span = tracing::debug_span!("unit_of_work", name);
        // Boxed, as a repository's reads are: a database store's future
        // is large, and each move of it would copy all of it.
        let tx = Box::pin(store.begin())
            .instrument(span.clone())
            .await
            .map(Arc::new);
        if let Err(error) = &tx {
            tracing::debug!(parent: &span, %error, "could not begin");
        }
        Ok(UnitState {
            tx: tx?,
            span,
            finished: false,
            read_only: false,
        })
    }

    /// Begins the read-only store transaction of unit of work `name`.
    pub async fn begin_read_only(store: &S, name: &'static str) -> Result<Self, Error> {
        let span = tracing::debug_span!("unit_of_work", name, read_only = true);
        let tx = Box::pin(store.begin_read_only())
            .instrument(span.clone())
            .await
            .map(Arc::new);
        if let Err(error) = &tx {
            tracing::debug!(parent: &span, %error, "could not begin");
        }
        Ok(UnitState {
            tx: tx?,
            span,
            finished: false,
            read_only: true,
        })
    }

    /// The transaction, for a repository.
    pub fn transaction(&self) -> Arc<S::Tx> {
        Arc::clone(&self.tx)
    }

    /// The store's transaction of the unit of work (the generated
    /// `transaction()`): what a store offers for statements of the caller's
    /// own, such as `uow_sqlx::SqlxTransaction`'s.
    pub fn store_transaction(&self) -> &S::Tx {
        &self.tx
    }

    /// The id of the unit of work.
    pub fn unit_id(&self) -> &UnitId {
        self.tx.unit_id()
    }

    /// A repository of the unit of work, whose reads run in its span.
    pub fn repository<A: crate::Aggregate>(&self) -> crate::Repository<A, S> {
        crate::Repository::in_span(self.transaction(), self.span.clone())
    }
}

impl<S: Store> Drop for UnitState<S> {
    fn drop(&mut self) {
        if !self.finished {
            tracing::debug!(parent: &self.span, "dropped without commit: rolled back");
        }
    }
}

/// Orders and applies a unit of work's changes, and hands back its events
/// once they are committed.
#[doc(hidden)]
pub async fn commit<S: Store, E>(
    state: &mut UnitState<S>,
    mut changes: ChangeSet,
    events: Vec<(EventSource, E)>,
) -> Result<Vec<E>, Error> {
    changes.sort();
    let writes = changes.len();
    if state.read_only && writes > 0 {
        state.finished = true;
        let error = Error::ReadOnly {
            unit_id: state.unit_id().to_string(),
            writes,
        };
        tracing::debug!(parent: &state.span, %error, "not committed");
        return Err(error);
    }
    // A read-only unit without writes ends as any unit does: the store
    // ends its transaction (statements of the caller's own that a SQL
    // store keeps for the commit run then, and a READ ONLY transaction
    // refuses their writes).
    let outcome = state
        .tx
        .commit(changes)
        .instrument(state.span.clone())
        .await;
    state.finished = true;
    match &outcome {
        Ok(()) => tracing::debug!(parent: &state.span, writes, events = events.len(), "committed"),
        Err(error @ Error::CommitOutcomeUnknown { .. }) => {
            tracing::warn!(parent: &state.span, %error, "commit outcome unknown")
        }
        Err(error) if error.is_retryable() => {
            tracing::debug!(parent: &state.span, %error, "not committed (retryable)")
        }
        Err(error) => tracing::debug!(parent: &state.span, %error, "not committed"),
    }
    outcome?;
    Ok(events.into_iter().map(|(_, event)| event).collect())
}

/// Like [`commit`], storing the events in the outbox in the same transaction.
#[doc(hidden)]
pub async fn commit_with_outbox<S: Store, E: serde::Serialize>(
    state: &mut UnitState<S>,
    mut changes: ChangeSet,
    events: Vec<(EventSource, E)>,
) -> Result<Vec<E>, Error> {
    changes.set_outbox(outbox_records(&events)?);
    commit::<S, E>(state, changes, events).await
}
