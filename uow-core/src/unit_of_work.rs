//! The unit of work: one atomic business operation over several repositories.
//!
//! `#[unit_of_work]` turns a struct whose fields name aggregates into a unit
//! of work: `begin(&store)`, one [`Repository`](crate::Repository) per field,
//! `commit()` and rollback by default. The behaviour lives here and in the
//! repository; the macro only wires the fields.

use std::future::Future;
use std::sync::Arc;

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

/// Begins the store transaction shared by a unit of work's repositories.
#[doc(hidden)]
pub async fn begin<S: Store>(store: &S) -> Result<Arc<S::Tx>, Error> {
    store.begin().await.map(Arc::new)
}

/// Orders and applies a unit of work's changes, and hands back its events
/// once they are committed.
#[doc(hidden)]
pub async fn commit<S: Store, E>(
    tx: &S::Tx,
    mut changes: ChangeSet,
    events: Vec<(EventSource, E)>,
) -> Result<Vec<E>, Error> {
    changes.sort();
    tx.commit(changes).await?;
    Ok(events.into_iter().map(|(_, event)| event).collect())
}

/// Like [`commit`], storing the events in the outbox in the same transaction.
#[doc(hidden)]
pub async fn commit_with_outbox<S: Store, E: serde::Serialize>(
    tx: &S::Tx,
    mut changes: ChangeSet,
    events: Vec<(EventSource, E)>,
) -> Result<Vec<E>, Error> {
    changes.set_outbox(outbox_records(&events)?);
    commit::<S, E>(tx, changes, events).await
}
