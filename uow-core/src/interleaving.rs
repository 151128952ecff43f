//! An in-memory store whose units of work interleave: every store operation
//! is a point where a seeded scheduler decides which pending unit of work
//! proceeds, so that concurrent units meet on the fake as they meet on a
//! database — and a schedule that goes wrong is replayed from its seed.
//!
//! In the spirit of loom and shuttle, and like them it is its own executor:
//! [`InterleavingStore::run`] polls the tasks given to it (with std futures
//! only, no async runtime), lets each run up to its next store operation, and
//! then picks one of the operations waiting, by a pseudo-random generator
//! seeded with the store's seed. The same seed and the same tasks give the
//! same schedule, step for step.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use crate::aggregate::Aggregate;
use crate::error::Error;
use crate::memory::{InMemoryStore, InMemoryTransaction};
use crate::store::{ChangeSet, Query, Store, Transaction};
use crate::unit_of_work::{CommitOutcome, UnitId};

/// An [`InMemoryStore`] on which concurrent units of work interleave, one
/// store operation at a time, in an order decided by a seed.
///
/// Outside [`run`](Self::run) it is the in-memory store as it is (to set up
/// data and check results). Inside `run`, every `begin`, read and commit of
/// the tasks waits until the scheduler picks it; the scheduler picks only
/// when every task waits at a store operation or has finished, so which
/// interleaving happens depends on the seed alone.
///
/// ```
/// use uow_core::interleaving::Operation;
/// use uow_core::{InMemoryStore, InterleavingStore};
/// # #[derive(uow_core::Aggregate, Clone, Debug)]
/// # #[aggregate(table = "counters")]
/// # pub struct Counter { #[aggregate(id)] pub id: String, #[aggregate(version)] pub version: u64, pub count: i64 }
/// # #[uow_core::unit_of_work]
/// # pub struct Counting { pub counters: Counter }
/// async fn increment<S: uow_core::Store>(store: &S) -> Result<(), uow_core::Error> {
///     let mut uow = Counting::begin(store).await?;
///     let counter = uow.counters.get(&"c".to_owned()).await?.expect("stored");
///     counter.count += 1;
///     uow.commit().await.map(drop)
/// }
///
/// let store = InterleavingStore::new(InMemoryStore::new(), 7);
/// # futures_lite_block_on(async {
/// #     let mut uow = Counting::begin(&store).await.unwrap();
/// #     uow.counters.add(Counter { id: "c".into(), version: 0, count: 0 }).unwrap();
/// #     uow.commit().await.unwrap();
/// # });
/// let run = store.run([increment(&store), increment(&store)]);
/// // Each task did begin, a read and a commit: six steps, in the seed's order.
/// assert_eq!(run.schedule.len(), 6);
/// assert!(run.schedule.iter().all(|step| step.task < 2));
/// // Whether one of them lost the race (a version conflict) depends on the seed;
/// // replaying the seed replays the schedule.
/// let again = InterleavingStore::new(InMemoryStore::new(), 7);
/// # futures_lite_block_on(async {
/// #     let mut uow = Counting::begin(&again).await.unwrap();
/// #     uow.counters.add(Counter { id: "c".into(), version: 0, count: 0 }).unwrap();
/// #     uow.commit().await.unwrap();
/// # });
/// assert_eq!(again.run([increment(&again), increment(&again)]).schedule, run.schedule);
/// # fn futures_lite_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct InterleavingStore {
    inner: InMemoryStore,
    scheduler: Arc<Mutex<Scheduler>>,
}

/// A store operation, as recorded in a schedule.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    /// `Store::begin`: a unit of work begins.
    Begin,
    /// A read of a unit of work, from the table named.
    Fetch {
        /// The table read.
        table: &'static str,
    },
    /// The commit of a unit of work (an empty one too).
    Commit,
    /// `Store::commit_outcome`.
    CommitOutcome,
}

/// One step of a schedule: task `task` (its index in the tasks given to
/// [`InterleavingStore::run`]) performed `operation`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Step {
    /// The index of the task.
    pub task: usize,
    /// What it did.
    pub operation: Operation,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.operation {
            Operation::Begin => write!(f, "{}: begin", self.task),
            Operation::Fetch { table } => write!(f, "{}: read {table}", self.task),
            Operation::Commit => write!(f, "{}: commit", self.task),
            Operation::CommitOutcome => write!(f, "{}: commit outcome", self.task),
        }
    }
}

/// What [`InterleavingStore::run`] returns: each task's output, in the order
/// the tasks were given, and the schedule the operations ran in.
#[derive(Debug)]
pub struct Interleaving<T> {
    /// The output of each task.
    pub outputs: Vec<T>,
    /// The store operations of every task, in the order they ran.
    pub schedule: Vec<Step>,
}

#[derive(Debug, Default)]
struct Scheduler {
    /// Whether `run` is driving the tasks.
    running: bool,
    /// The task being polled.
    current: Option<usize>,
    /// The operation each task waits at (by task index).
    waiting: Vec<Option<Operation>>,
    /// The task whose operation was picked and has not yet run.
    granted: Option<usize>,
    schedule: Vec<Step>,
    rng: SplitMix64,
}

impl InterleavingStore {
    /// An interleaving store over the tables of `inner` (a clone of it
    /// shares them), whose schedules are decided by `seed`.
    pub fn new(inner: InMemoryStore, seed: u64) -> Self {
        InterleavingStore {
            inner,
            scheduler: Arc::new(Mutex::new(Scheduler {
                rng: SplitMix64(seed),
                ..Scheduler::default()
            })),
        }
    }

    /// The in-memory store underneath, whose operations never wait.
    pub fn inner(&self) -> &InMemoryStore {
        &self.inner
    }

    /// Runs `tasks` to their end, interleaving their store operations in the
    /// order the seed decides, and returns their outputs and the schedule.
    ///
    /// The tasks may await this store (and futures that are ready at once)
    /// and nothing else: no timers, channels or other I/O.
    ///
    /// # Panics
    ///
    /// If a task waits for something other than this store, if `run` is
    /// called again while it runs, or if a task panics.
    pub fn run<F: Future>(&self, tasks: impl IntoIterator<Item = F>) -> Interleaving<F::Output> {
        let mut tasks: Vec<Pin<Box<F>>> = tasks.into_iter().map(Box::pin).collect();
        let mut outputs: Vec<Option<F::Output>> = tasks.iter().map(|_| None).collect();
        {
            let mut scheduler = self.lock();
            assert!(
                !scheduler.running,
                "InterleavingStore::run called while it runs"
            );
            scheduler.running = true;
            scheduler.waiting = vec![None; tasks.len()];
            scheduler.granted = None;
            scheduler.schedule.clear();
        }
        let _stop = Stop(self);
        let mut cx = Context::from_waker(Waker::noop());
        // Every task runs up to its first store operation; then, one picked
        // operation at a time, its task runs up to its next one.
        let mut runnable: Vec<usize> = (0..tasks.len()).collect();
        loop {
            for index in runnable.drain(..) {
                self.lock().current = Some(index);
                let poll = tasks[index].as_mut().poll(&mut cx);
                let mut scheduler = self.lock();
                scheduler.current = None;
                match poll {
                    Poll::Ready(output) => outputs[index] = Some(output),
                    Poll::Pending => assert!(
                        scheduler.waiting[index].is_some(),
                        "task {index} waits for something other than the InterleavingStore; \
                         the tasks of InterleavingStore::run may await the store only"
                    ),
                }
            }
            let mut scheduler = self.lock();
            let waiting: Vec<usize> = (0..tasks.len())
                .filter(|index| scheduler.waiting[*index].is_some())
                .collect();
            if waiting.is_empty() {
                break;
            }
            let picked = waiting[(scheduler.rng.next() % waiting.len() as u64) as usize];
            let operation = scheduler.waiting[picked].take().expect("waiting");
            scheduler.schedule.push(Step {
                task: picked,
                operation,
            });
            scheduler.granted = Some(picked);
            runnable.push(picked);
        }
        let schedule = std::mem::take(&mut self.lock().schedule);
        Interleaving {
            outputs: outputs
                .into_iter()
                .map(|output| output.expect("every task finished"))
                .collect(),
            schedule,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Scheduler> {
        lock(&self.scheduler)
    }
}

/// Ends a run, even when a task panics.
struct Stop<'a>(&'a InterleavingStore);

impl Drop for Stop<'_> {
    fn drop(&mut self) {
        let mut scheduler = self.0.lock();
        scheduler.running = false;
        scheduler.current = None;
        scheduler.granted = None;
    }
}

fn lock(scheduler: &Mutex<Scheduler>) -> MutexGuard<'_, Scheduler> {
    scheduler.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Waits until the scheduler picks `operation` (at once outside a run).
fn turn(scheduler: &Arc<Mutex<Scheduler>>, operation: Operation) -> Turn {
    Turn {
        scheduler: Arc::clone(scheduler),
        operation: Some(operation),
        task: None,
    }
}

struct Turn {
    scheduler: Arc<Mutex<Scheduler>>,
    operation: Option<Operation>,
    task: Option<usize>,
}

impl Future for Turn {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        let scheduler = Arc::clone(&self.scheduler);
        let mut scheduler = lock(&scheduler);
        match self.task {
            None => {
                let Some(task) = scheduler.current.filter(|_| scheduler.running) else {
                    // Not inside a run (or polled by another executor): go.
                    return Poll::Ready(());
                };
                let operation = self.operation.take().expect("polled once before");
                scheduler.waiting[task] = Some(operation);
                self.task = Some(task);
                Poll::Pending
            }
            Some(task) if scheduler.granted == Some(task) => {
                scheduler.granted = None;
                Poll::Ready(())
            }
            Some(_) => Poll::Pending,
        }
    }
}

/// One unit of work's transaction on an [`InterleavingStore`].
#[derive(Debug)]
pub struct InterleavingTransaction {
    inner: InMemoryTransaction,
    scheduler: Arc<Mutex<Scheduler>>,
}

impl Store for InterleavingStore {
    type Tx = InterleavingTransaction;

    async fn begin(&self) -> Result<Self::Tx, Error> {
        turn(&self.scheduler, Operation::Begin).await;
        Ok(InterleavingTransaction {
            inner: self.inner.begin().await?,
            scheduler: Arc::clone(&self.scheduler),
        })
    }

    async fn commit_outcome(&self, unit: &UnitId) -> Result<CommitOutcome, Error> {
        turn(&self.scheduler, Operation::CommitOutcome).await;
        self.inner.commit_outcome(unit).await
    }
}

impl Transaction for InterleavingTransaction {
    fn unit_id(&self) -> &UnitId {
        self.inner.unit_id()
    }

    async fn fetch<A: Aggregate>(&self, query: Query) -> Result<Vec<A>, Error> {
        turn(
            &self.scheduler,
            Operation::Fetch {
                table: A::META.table,
            },
        )
        .await;
        self.inner.fetch(query).await
    }

    async fn count<A: Aggregate>(&self, filter: crate::query::Filter) -> Result<u64, Error> {
        turn(
            &self.scheduler,
            Operation::Fetch {
                table: A::META.table,
            },
        )
        .await;
        self.inner.count::<A>(filter).await
    }

    async fn commit(&self, changes: ChangeSet) -> Result<(), Error> {
        turn(&self.scheduler, Operation::Commit).await;
        self.inner.commit(changes).await
    }
}

/// The generator of the schedule: SplitMix64, small and the same everywhere.
#[derive(Debug, Default)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49a4_133b_eb4f);
        z ^ (z >> 31)
    }
}
