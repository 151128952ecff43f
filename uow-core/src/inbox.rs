//! The inbox: the consumer's half of exactly-once handling.
//!
//! A relay delivers outbox messages at least once, so a consumer sees some of
//! them twice (a relay restarted after publishing and before marking the
//! message delivered, a broker redelivering a message whose acknowledgement
//! was lost). An [`Inbox`] makes the *effect* of each message happen once:
//! the handler runs its units of work on a [`Receiving`] store, which writes
//! the message's id into the store's inbox table in the same transaction as
//! the handler's own writes. A message whose id the inbox already holds is
//! acknowledged without running the handler again; two deliveries handled at
//! once cannot both commit (the second fails with
//! [`Error::AlreadyReceived`], and [`Inbox::handle`] reports it as
//! [`Handled::AlreadyHandled`]).
//!
//! The inbox works on every store that keeps one: the in-memory store (so a
//! service's consumer is tested without a database) and `uow_sqlx::SqlxStore`
//! (table `uow_inbox`, created by `create_inbox`). Ids are kept until
//! [`Inbox::prune`] removes them: keep them longer than a message can be
//! redelivered (the broker's redelivery and deduplication windows, the
//! relay's retries).
//!
//! ```
//! use uow_core::{Aggregate, ColumnValue, InMemoryStore, unit_of_work};
//! use uow_core::inbox::{Handled, Inbox};
//!
//! #[derive(ColumnValue, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
//! pub struct Sku(String);
//!
//! #[derive(Aggregate, Debug)]
//! #[aggregate(table = "stock_views")]
//! pub struct StockView {
//!     #[aggregate(id)]
//!     pub sku: Sku,
//!     #[aggregate(version)]
//!     pub version: u64,
//!     pub allocated: i64,
//! }
//!
//! #[unit_of_work]
//! pub struct Reporting {
//!     pub views: StockView,
//! }
//!
//! /// The handler: an ordinary service function, generic over the store.
//! async fn count_allocation<S: uow_core::Store>(store: &S, sku: &str) -> Result<(), uow_core::Error> {
//!     let mut uow = Reporting::begin(store).await?;
//!     match uow.views.get(&Sku(sku.into())).await? {
//!         Some(view) => view.allocated += 1,
//!         None => uow.views.add(StockView { sku: Sku(sku.into()), version: 0, allocated: 1 })?,
//!     }
//!     uow.commit().await?;
//!     Ok(())
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let store = InMemoryStore::new();
//! let inbox = Inbox::new("reporting", store.clone());
//!
//! // The same message delivered twice: its effect happens once.
//! for expected in [Handled::Applied, Handled::AlreadyHandled] {
//!     let handled = inbox
//!         .handle("0193a0e2-7c1d-7e6f-9a51-0c2d3e4f5a6b", async |store| {
//!             count_allocation(&store, "LAMP").await
//!         })
//!         .await
//!         .expect("handled");
//!     assert_eq!(handled, expected);
//! }
//! let mut uow = Reporting::begin(&store).await?;
//! assert_eq!(uow.views.get(&Sku("LAMP".into())).await?.expect("view").allocated, 1);
//! # Ok::<(), uow_core::Error>(())
//! # }).unwrap();
//! ```

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::aggregate::Aggregate;
use crate::error::Error;
use crate::outbox::now_micros;
use crate::query::Filter;
use crate::store::{ChangeSet, Query, Store, Transaction};
use crate::unit_of_work::{CommitOutcome, UnitId};

/// One handled message, as the inbox stores it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InboxRecord {
    /// The consumer that handled it: each consumer of a message has its own
    /// record of it.
    pub consumer: String,
    /// The message's id (the outbox's event id, carried by the broker).
    pub message_id: String,
    /// When the commit that handled it was made, in microseconds since the
    /// epoch: what [`Inbox::prune`] goes by.
    pub received_at: i64,
}

/// A store that keeps an inbox: the in-memory store and `uow_sqlx::SqlxStore`.
///
/// The inbox record itself is written by the store's
/// [`Transaction::commit`] when the [`ChangeSet`] carries one
/// ([`ChangeSet::inbox`]); this trait adds the reads and the pruning.
pub trait InboxStore: Store {
    /// Whether `consumer` has handled message `message_id`: a commit holding
    /// its inbox record was stored.
    fn received(
        &self,
        consumer: &str,
        message_id: &str,
    ) -> impl Future<Output = Result<bool, Error>> + Send;

    /// Removes the inbox records (of every consumer) received before
    /// `received_before` (microseconds since the epoch), and says how many.
    fn prune_inbox(&self, received_before: i64) -> impl Future<Output = Result<u64, Error>> + Send;
}

impl<S: InboxStore> InboxStore for Arc<S> {
    fn received(
        &self,
        consumer: &str,
        message_id: &str,
    ) -> impl Future<Output = Result<bool, Error>> + Send {
        S::received(self, consumer, message_id)
    }

    fn prune_inbox(&self, received_before: i64) -> impl Future<Output = Result<u64, Error>> + Send {
        S::prune_inbox(self, received_before)
    }
}

/// What [`Inbox::handle`] did with a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handled {
    /// The handler ran and its commit, with the message's inbox record, was
    /// stored.
    Applied,
    /// The inbox already held the message: the handler did not run, or its
    /// commit was refused because another delivery of the message committed
    /// first. Nothing of this delivery was stored.
    AlreadyHandled,
}

/// Why [`Inbox::handle`] did not handle a message. Nothing of the handler's
/// work was stored unless it committed before failing; the message's inbox
/// record was not stored, so a redelivery runs the handler again.
#[derive(Debug)]
pub enum InboxError<E> {
    /// Reading or writing the inbox failed.
    Storage(Error),
    /// The handler failed.
    Handler(E),
}

impl<E: fmt::Display> fmt::Display for InboxError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InboxError::Storage(error) => write!(f, "the inbox could not be used: {error}"),
            InboxError::Handler(error) => write!(f, "the handler failed: {error}"),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for InboxError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            InboxError::Storage(error) => Some(error),
            InboxError::Handler(error) => Some(error),
        }
    }
}

/// Runs the handlers of one consumer so that each message's effect is
/// stored once (see the [module](self)).
#[derive(Clone, Debug)]
pub struct Inbox<S> {
    store: S,
    consumer: String,
}

impl<S: InboxStore + Clone> Inbox<S> {
    /// The inbox of consumer `consumer` (a name unique among the consumers
    /// of the same messages that share the store) on `store`.
    pub fn new(consumer: impl Into<String>, store: S) -> Self {
        Inbox {
            store,
            consumer: consumer.into(),
        }
    }

    /// The consumer's name.
    pub fn consumer(&self) -> &str {
        &self.consumer
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Handles message `message_id` once: unless the inbox holds it already,
    /// runs `handler` with a [`Receiving`] store, on which the handler begins
    /// and commits its units of work as on the store itself. The handler's
    /// first commit that writes anything also writes the message's inbox
    /// record; if the handler commits nothing, the record is committed alone
    /// after it returns, so the message counts as handled either way.
    ///
    /// Acknowledge the message to the broker only after this returns `Ok`.
    /// A handler retrying its unit of work (after a conflict) carries the
    /// record into the retry; a handler committing two units of work records
    /// the message with the first, so a crash between them leaves the second
    /// undone for good: commit once per message.
    pub async fn handle<F, Fut, E>(
        &self,
        message_id: &str,
        handler: F,
    ) -> Result<Handled, InboxError<E>>
    where
        F: FnOnce(Receiving<S>) -> Fut,
        Fut: Future<Output = Result<(), E>>,
    {
        let seen = self
            .store
            .received(&self.consumer, message_id)
            .await
            .map_err(InboxError::Storage)?;
        if seen {
            tracing::debug!(consumer = %self.consumer, message_id, "already handled");
            return Ok(Handled::AlreadyHandled);
        }
        let slot = Arc::new(Slot {
            record: Mutex::new(Some(InboxRecord {
                consumer: self.consumer.clone(),
                message_id: message_id.to_owned(),
                received_at: 0,
            })),
            already_received: AtomicBool::new(false),
        });
        let receiving = Receiving {
            store: self.store.clone(),
            slot: Arc::clone(&slot),
        };
        let outcome = handler(receiving).await;
        if slot.already_received.load(Ordering::SeqCst) {
            tracing::debug!(consumer = %self.consumer, message_id, "handled meanwhile by another delivery");
            return Ok(Handled::AlreadyHandled);
        }
        outcome.map_err(InboxError::Handler)?;
        let Some(mut record) = slot.take() else {
            return Ok(Handled::Applied);
        };
        // The handler wrote nothing: the record is the whole commit.
        record.received_at = now_micros();
        let tx = self.store.begin().await.map_err(InboxError::Storage)?;
        let mut changes = ChangeSet::new();
        changes.set_inbox(record);
        match tx.commit(changes).await {
            Ok(()) => Ok(Handled::Applied),
            Err(Error::AlreadyReceived { .. }) => Ok(Handled::AlreadyHandled),
            Err(error) => Err(InboxError::Storage(error)),
        }
    }

    /// Whether this consumer has handled message `message_id`.
    pub async fn received(&self, message_id: &str) -> Result<bool, Error> {
        self.store.received(&self.consumer, message_id).await
    }

    /// Removes the inbox records received more than `older_than` ago (of
    /// every consumer of the store), and says how many. A message delivered
    /// again after its record is pruned is handled again: keep records longer
    /// than any redelivery can come.
    pub async fn prune(&self, older_than: Duration) -> Result<u64, Error> {
        let age = i64::try_from(older_than.as_micros()).unwrap_or(i64::MAX);
        self.store
            .prune_inbox(now_micros().saturating_sub(age))
            .await
    }
}

/// The record of the message being handled, until a commit takes it.
#[derive(Debug)]
struct Slot {
    record: Mutex<Option<InboxRecord>>,
    already_received: AtomicBool,
}

impl Slot {
    fn take(&self) -> Option<InboxRecord> {
        self.record
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    fn put_back(&self, record: InboxRecord) {
        let mut slot = self.record.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.is_none() {
            *slot = Some(record);
        }
    }
}

/// The store an [`Inbox`] handler runs on: the inbox's store, whose next
/// commit also records the message being handled. Begin units of work on it
/// as on any store (`Reporting::begin(&store)`).
#[derive(Clone, Debug)]
pub struct Receiving<S> {
    store: S,
    slot: Arc<Slot>,
}

impl<S> Receiving<S> {
    /// The store underneath, whose commits do not record the message.
    pub fn inner(&self) -> &S {
        &self.store
    }
}

impl<S: Store + Clone> Store for Receiving<S> {
    type Tx = ReceivingTransaction<S::Tx>;

    async fn begin(&self) -> Result<Self::Tx, Error> {
        Ok(ReceivingTransaction {
            inner: self.store.begin().await?,
            slot: Arc::clone(&self.slot),
        })
    }

    async fn begin_read_only(&self) -> Result<Self::Tx, Error> {
        Ok(ReceivingTransaction {
            inner: self.store.begin_read_only().await?,
            slot: Arc::clone(&self.slot),
        })
    }

    fn commit_outcome(
        &self,
        unit: &UnitId,
    ) -> impl Future<Output = Result<CommitOutcome, Error>> + Send {
        self.store.commit_outcome(unit)
    }
}

/// A transaction begun on a [`Receiving`] store.
#[derive(Debug)]
pub struct ReceivingTransaction<T> {
    inner: T,
    slot: Arc<Slot>,
}

impl<T: Transaction> Transaction for ReceivingTransaction<T> {
    fn unit_id(&self) -> &UnitId {
        self.inner.unit_id()
    }

    fn fetch<A: Aggregate>(
        &self,
        query: Query,
    ) -> impl Future<Output = Result<Vec<A>, Error>> + Send {
        self.inner.fetch(query)
    }

    fn count<A: Aggregate>(
        &self,
        filter: Filter,
    ) -> impl Future<Output = Result<u64, Error>> + Send {
        self.inner.count::<A>(filter)
    }

    async fn commit(&self, mut changes: ChangeSet) -> Result<(), Error> {
        if changes.is_empty() {
            return self.inner.commit(changes).await;
        }
        let Some(mut record) = self.slot.take() else {
            return self.inner.commit(changes).await;
        };
        record.received_at = now_micros();
        changes.set_inbox(record.clone());
        let outcome = self.inner.commit(changes).await;
        match &outcome {
            Ok(()) => {}
            Err(Error::AlreadyReceived { .. }) => {
                self.slot.already_received.store(true, Ordering::SeqCst);
            }
            // Not stored (or not known to be): a retry of the unit of work
            // carries the record; if it was stored after all, the retry's
            // commit is refused as already received.
            Err(_) => self.slot.put_back(record),
        }
        outcome
    }
}
