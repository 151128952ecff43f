//! A store decorator that counts reads, to show what the identity map saves.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use uow_core::{
    Aggregate, Error, Store,
    backend::{ChangeSet, Query, Transaction},
};

/// Wraps a store and counts the fetches its transactions make.
#[derive(Clone, Debug)]
pub struct CountingStore<S> {
    inner: S,
    fetches: Arc<AtomicUsize>,
}

impl<S> CountingStore<S> {
    /// Wraps `inner`.
    pub fn new(inner: S) -> Self {
        CountingStore {
            inner,
            fetches: Arc::default(),
        }
    }

    /// Fetches so far, across all units of work.
    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

/// A transaction of a [`CountingStore`].
pub struct CountingTransaction<T> {
    inner: T,
    fetches: Arc<AtomicUsize>,
}

impl<S: Store> Store for CountingStore<S> {
    type Tx = CountingTransaction<S::Tx>;
    fn begin(&self) -> impl Future<Output = Result<Self::Tx, Error>> + Send {
        let fetches = Arc::clone(&self.fetches);
        let begin = self.inner.begin();
        async move {
            Ok(CountingTransaction {
                inner: begin.await?,
                fetches,
            })
        }
    }
    fn commit_outcome(
        &self,
        unit: &uow_core::UnitId,
    ) -> impl Future<Output = Result<uow_core::CommitOutcome, Error>> + Send {
        self.inner.commit_outcome(unit)
    }
}

impl<T: Transaction> Transaction for CountingTransaction<T> {
    fn unit_id(&self) -> &uow_core::UnitId {
        self.inner.unit_id()
    }
    fn fetch<A: Aggregate>(
        &self,
        query: Query,
    ) -> impl Future<Output = Result<Vec<A>, Error>> + Send {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        self.inner.fetch::<A>(query)
    }
    fn count<A: Aggregate>(
        &self,
        filter: uow_core::backend::Filter,
    ) -> impl Future<Output = Result<u64, Error>> + Send {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        self.inner.count::<A>(filter)
    }
    fn commit(&self, changes: ChangeSet) -> impl Future<Output = Result<(), Error>> + Send {
        self.inner.commit(changes)
    }
}
