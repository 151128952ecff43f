//! The lost-update race of two allocations, on the interleaving in-memory
//! store: its scheduler interleaves the two units of work at every store
//! operation in an order decided by a seed, so the race happens on the fake
//! as it does on a database, the version check is seen catching it, and a
//! seed replays its schedule exactly.

use allocation_domain::{OrderLine, Sku};
use allocation_service::{Allocation, CreateBatch, RecordedNotifications, bootstrap, product};
use uow_core::interleaving::{Operation, Step};
use uow_core::{Error, InMemoryStore, InterleavingStore, Store};

/// A store with one batch of 100 lamps, interleaving by `seed`.
fn lamps_in_stock(seed: u64) -> InterleavingStore {
    let store = InterleavingStore::new(InMemoryStore::new(), seed);
    block_on(
        bootstrap(store.inner().clone(), RecordedNotifications::default()).handle(CreateBatch {
            reference: "batch1".into(),
            sku: "LAMP".into(),
            qty: 100,
            eta: None,
        }),
    )
    .expect("add the batch");
    store
}

/// One attempt of the allocation use case: load the product, allocate the
/// line, commit.
async fn allocate_once<S: Store>(store: &S, order: &str) -> Result<(), Error> {
    let mut uow = Allocation::begin(store).await?;
    let product = uow.products.get(&Sku::new("LAMP")).await?.expect("stored");
    product
        .allocate(OrderLine::new(order, "LAMP", 10))
        .expect("in stock");
    uow.commit().await.map(drop)
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
        .block_on(future)
}

/// What one seed did: the schedule, each unit's outcome, and the product's
/// version and allocated orders afterwards.
#[derive(Debug)]
struct Race {
    schedule: Vec<Step>,
    outcomes: Vec<Result<(), Error>>,
    version: u64,
    orders: Vec<String>,
}

impl Race {
    /// Whether both units read the product before either committed: the
    /// interleaving in which, without a version check, one allocation would
    /// overwrite the other.
    fn both_read_before_a_commit(&self) -> bool {
        let first_commit = self
            .schedule
            .iter()
            .position(|step| step.operation == Operation::Commit)
            .expect("a commit");
        let reads: Vec<usize> = self.schedule[..first_commit]
            .iter()
            .filter(|step| step.operation == Operation::Fetch { table: "products" })
            .map(|step| step.task)
            .collect();
        reads.contains(&0) && reads.contains(&1)
    }

    fn conflicts(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|outcome| matches!(outcome, Err(Error::Conflict { .. })))
            .count()
    }

    fn committed(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|outcome| outcome.is_ok())
            .count()
    }
}

fn race(seed: u64) -> Race {
    let store = lamps_in_stock(seed);
    let run = store.run([
        allocate_once(&store, "order1"),
        allocate_once(&store, "order2"),
    ]);
    let product = block_on(product(store.inner(), "LAMP"))
        .expect("read")
        .expect("stored");
    Race {
        schedule: run.schedule,
        outcomes: run.outputs,
        version: product.version,
        orders: product.batches[0]
            .allocations()
            .iter()
            .map(|line| line.orderid.0.clone())
            .collect(),
    }
}

#[test]
fn a_seed_interleaves_two_allocations_into_a_lost_update_that_the_version_check_stops() {
    let (seed, lost) = (0..100)
        .map(|seed| (seed, race(seed)))
        .find(|(_, race)| race.both_read_before_a_commit())
        .expect("some seed of 100 lets both units read before either commits");
    let schedule: Vec<String> = lost.schedule.iter().map(ToString::to_string).collect();
    uow_testing::report(&format!("seed {seed}: {}", schedule.join(", ")));

    // The version check caught it: one unit committed, the other got the
    // conflict, and exactly one allocation is stored, one version higher.
    assert_eq!((lost.committed(), lost.conflicts()), (1, 1), "{lost:?}");
    let loser = lost
        .outcomes
        .iter()
        .position(Result::is_err)
        .expect("a loser");
    assert!(
        matches!(
            &lost.outcomes[loser],
            Err(Error::Conflict {
                aggregate: "Product",
                expected: 1,
                ..
            })
        ),
        "{:?}",
        lost.outcomes[loser]
    );
    assert_eq!(lost.version, 2);
    let winner = ["order1", "order2"][1 - loser];
    assert_eq!(lost.orders, [winner]);

    // The same seed replays the same schedule, with the same outcome.
    let replay = race(seed);
    assert_eq!(replay.schedule, lost.schedule);
    assert_eq!(
        replay
            .outcomes
            .iter()
            .map(Result::is_ok)
            .collect::<Vec<_>>(),
        lost.outcomes.iter().map(Result::is_ok).collect::<Vec<_>>()
    );
    assert_eq!(replay.orders, lost.orders);
}

#[test]
fn exploring_two_hundred_seeds_of_two_allocations_finds_the_race_and_never_loses_an_update() {
    const SEEDS: u64 = 200;
    let (mut conflicts, mut raced, mut serial) = (0, 0, 0);
    let mut schedules = std::collections::HashSet::new();
    for seed in 0..SEEDS {
        let race = race(seed);
        assert_eq!(
            race.schedule.len(),
            6,
            "seed {seed}: begin, read, commit each"
        );
        schedules.insert(race.schedule.clone());
        // Whatever the schedule, no update is lost: every committed
        // allocation is stored, and the version counts the commits.
        assert_eq!(race.orders.len(), race.committed(), "seed {seed}: {race:?}");
        assert_eq!(race.version, 1 + race.committed() as u64, "seed {seed}");
        assert_eq!(
            race.committed() + race.conflicts(),
            2,
            "seed {seed}: {race:?}"
        );
        // A conflict happens exactly when both read before either committed.
        assert_eq!(
            race.conflicts() == 1,
            race.both_read_before_a_commit(),
            "seed {seed}: {race:?}"
        );
        conflicts += race.conflicts();
        if race.both_read_before_a_commit() {
            raced += 1;
        } else {
            serial += 1;
        }
    }
    uow_testing::report(&format!(
        "{SEEDS} seeds of two allocations: {} distinct schedules; {conflicts} conflicts \
         ({raced} seeds raced, {serial} ran one unit's read and commit before the other's read)",
        schedules.len()
    ));
    assert!(conflicts > 0, "no seed raced");
    assert!(serial > 0, "no seed serialized the two units");
}
