//! Differential testing of child entities: proptest generates programs of
//! up to two interleaved units of work that add, change, remove, reorder
//! and move children and grandchildren of products (warehouse domain:
//! product → batch → allocation), take unique child values, find roots by
//! child columns, and remove and re-add roots; each program runs on a
//! fresh in-memory store and on a database, and every step's outcome
//! (loaded aggregates, errors by kind and what they name) and the stored
//! state at the end must be identical.
//!
//! - `child_in_memory_vs_sqlite` always runs; the PostgreSQL and MySQL
//!   pairs when their URLs are set (required with `CI=true`).
//! - `UOW_DIFFERENTIAL_CASES` sets the programs per pair (default 1,000).
//! - Child ids differ only by a trailing space or case (`b1`, `b1 `,
//!   `B1`), as do the unique tracking codes.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::time::Instant;

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestError, TestRunner};
use uow_core::{Error, InMemoryStore, Store};
use uow_sqlx::SqlxStore;
use uow_tests::backends::{MySql, Postgres, Sqlite};
use uow_tests::raw_sql;
use uow_tests::warehouse::{
    Allocation, AllocationFinders, Batch, BatchFinders, Product, TABLES, Warehouse,
};

const SLOTS: usize = 2;
const SKUS: &[&str] = &["LAMP", "SOFA", "RUG"];
const BATCHES: &[&str] = &["b1", "b2", "b1 ", "B1"];
const TRACKING: &[&str] = &["t1", "t2", "t1 ", "T1"];
const ORDERS: &[&str] = &["o1", "o2", "o3"];
/// Allocation ids a program uses (UUIDs from these numbers).
const ALLOCATIONS: u128 = 4;

#[derive(Clone, Debug)]
enum Step {
    /// `products.get(sku)`.
    Get {
        uow: usize,
        sku: &'static str,
    },
    /// `products.add(..)` of a product with one batch.
    Add {
        uow: usize,
        sku: &'static str,
        batch: &'static str,
        tracking: &'static str,
    },
    /// `products.remove(sku)`: its batches and allocations with it.
    Remove {
        uow: usize,
        sku: &'static str,
    },
    /// Pushes a batch (its reference may be held already).
    AddBatch {
        uow: usize,
        sku: &'static str,
        batch: &'static str,
        tracking: &'static str,
    },
    /// Changes the quantity of the first batch with this reference.
    ChangeBatch {
        uow: usize,
        sku: &'static str,
        batch: &'static str,
        quantity: i64,
    },
    /// Sets the (unique) tracking code of the first batch with this reference.
    Track {
        uow: usize,
        sku: &'static str,
        batch: &'static str,
        tracking: &'static str,
    },
    /// Removes the batches with this reference (and their allocations).
    RemoveBatch {
        uow: usize,
        sku: &'static str,
        batch: &'static str,
    },
    /// Reverses the order of the batches.
    Reorder {
        uow: usize,
        sku: &'static str,
    },
    /// Moves the first batch with this reference to another product.
    MoveBatch {
        uow: usize,
        from: &'static str,
        to: &'static str,
        batch: &'static str,
    },
    /// Adds an allocation (a grandchild) to the first batch with this
    /// reference; its id may be held already.
    Allocate {
        uow: usize,
        sku: &'static str,
        batch: &'static str,
        allocation: u128,
        order: &'static str,
    },
    /// Changes an allocation's quantity, wherever it is in the product.
    ChangeAllocation {
        uow: usize,
        sku: &'static str,
        allocation: u128,
        quantity: i64,
    },
    /// Moves an allocation to the first batch with this reference.
    MoveAllocation {
        uow: usize,
        sku: &'static str,
        allocation: u128,
        batch: &'static str,
    },
    /// Removes an allocation, wherever it is in the product.
    Deallocate {
        uow: usize,
        sku: &'static str,
        allocation: u128,
    },
    /// `products.get_by_batch_tracking(..)`.
    ByTracking {
        uow: usize,
        tracking: &'static str,
    },
    /// `products.find_by_allocation_order(..)`.
    ByOrder {
        uow: usize,
        order: &'static str,
    },
    Commit {
        uow: usize,
    },
    Drop {
        uow: usize,
    },
}

fn step() -> impl Strategy<Value = Step> {
    let uow = || 0..SLOTS;
    let sku = || prop::sample::select(SKUS);
    let batch = || prop::sample::select(BATCHES);
    let tracking = || prop::sample::select(TRACKING);
    let allocation = || 1..=ALLOCATIONS;
    prop_oneof![
        2 => (uow(), sku()).prop_map(|(uow, sku)| Step::Get { uow, sku }),
        2 => (uow(), sku(), batch(), tracking())
            .prop_map(|(uow, sku, batch, tracking)| Step::Add { uow, sku, batch, tracking }),
        1 => (uow(), sku()).prop_map(|(uow, sku)| Step::Remove { uow, sku }),
        3 => (uow(), sku(), batch(), tracking())
            .prop_map(|(uow, sku, batch, tracking)| Step::AddBatch { uow, sku, batch, tracking }),
        2 => (uow(), sku(), batch(), 0..50i64)
            .prop_map(|(uow, sku, batch, quantity)| Step::ChangeBatch { uow, sku, batch, quantity }),
        2 => (uow(), sku(), batch(), tracking())
            .prop_map(|(uow, sku, batch, tracking)| Step::Track { uow, sku, batch, tracking }),
        1 => (uow(), sku(), batch()).prop_map(|(uow, sku, batch)| Step::RemoveBatch { uow, sku, batch }),
        1 => (uow(), sku()).prop_map(|(uow, sku)| Step::Reorder { uow, sku }),
        2 => (uow(), sku(), sku(), batch())
            .prop_map(|(uow, from, to, batch)| Step::MoveBatch { uow, from, to, batch }),
        3 => (uow(), sku(), batch(), allocation(), prop::sample::select(ORDERS))
            .prop_map(|(uow, sku, batch, allocation, order)| Step::Allocate { uow, sku, batch, allocation, order }),
        2 => (uow(), sku(), allocation(), 0..9i64)
            .prop_map(|(uow, sku, allocation, quantity)| Step::ChangeAllocation { uow, sku, allocation, quantity }),
        2 => (uow(), sku(), allocation(), batch())
            .prop_map(|(uow, sku, allocation, batch)| Step::MoveAllocation { uow, sku, allocation, batch }),
        1 => (uow(), sku(), allocation())
            .prop_map(|(uow, sku, allocation)| Step::Deallocate { uow, sku, allocation }),
        1 => (uow(), tracking()).prop_map(|(uow, tracking)| Step::ByTracking { uow, tracking }),
        1 => (uow(), prop::sample::select(ORDERS)).prop_map(|(uow, order)| Step::ByOrder { uow, order }),
        5 => uow().prop_map(|uow| Step::Commit { uow }),
        1 => uow().prop_map(|uow| Step::Drop { uow }),
    ]
}

fn program() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(step(), 1..40)
}

/// What a step did, as every backend must report it alike.
#[derive(Clone, Debug, PartialEq)]
enum Outcome {
    /// The product after the step (`None`: not stored, or removed).
    Product(Option<Product>),
    Products(Vec<Product>),
    Staged,
    Committed,
    Idle,
    Dropped,
    Failed(String),
}

/// An error as a caller can match it (never a driver's message).
fn failed(error: Error) -> Outcome {
    Outcome::Failed(match error {
        Error::Conflict {
            aggregate,
            id,
            expected,
        } => format!("conflict {aggregate} {id} {expected}"),
        Error::NotFound { aggregate, id } => format!("not found {aggregate} {id}"),
        Error::Duplicate {
            aggregate,
            id,
            column,
        } => format!("duplicate {aggregate} {id} {column}"),
        Error::DuplicateChild {
            aggregate,
            id,
            child,
            child_id,
        } => format!("duplicate child {aggregate} {id} {child} {child_id}"),
        Error::Encode {
            aggregate, field, ..
        } => format!("encode {aggregate} {field}"),
        other => format!("other: {other}"),
    })
}

#[derive(Debug, PartialEq)]
struct Trace {
    outcomes: Vec<Outcome>,
    stored: Result<Vec<Product>, String>,
}

fn allocation_id(n: u128) -> uuid::Uuid {
    uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 | n)
}

fn batch(reference: &str, tracking: &str) -> Batch {
    let mut batch = Batch::new(reference, 10);
    batch.tracking = tracking.to_owned();
    batch
}

async fn run<S: Store>(store: &S, program: &[Step]) -> Trace {
    let mut slots: [Option<Warehouse<S>>; SLOTS] = std::array::from_fn(|_| None);
    let mut outcomes = Vec::with_capacity(program.len());
    for step in program {
        outcomes.push(execute(store, &mut slots, step).await);
    }
    drop(slots);
    let stored = async {
        let mut uow = Warehouse::begin(store).await?;
        let all = uow.products.list(100).await?;
        Ok::<_, Error>(all.into_iter().map(|p| p.clone()).collect())
    }
    .await
    .map_err(|e| format!("{:?}", failed(e)));
    Trace { outcomes, stored }
}

/// Loads `sku` in the unit of work and applies `f` to it.
async fn change<S: Store>(
    uow: &mut Warehouse<S>,
    sku: &str,
    f: impl FnOnce(&mut Product),
) -> Outcome {
    match uow.products.get(&sku.to_owned()).await {
        Ok(Some(product)) => {
            f(product);
            Outcome::Product(Some(product.clone()))
        }
        Ok(None) => Outcome::Product(None),
        Err(e) => failed(e),
    }
}

fn find_allocation(product: &mut Product, id: uuid::Uuid) -> Option<&mut Allocation> {
    product
        .batches
        .iter_mut()
        .flat_map(|b| b.allocations.iter_mut())
        .find(|a| a.id == id)
}

fn take_allocation(product: &mut Product, id: uuid::Uuid) -> Option<Allocation> {
    for batch in &mut product.batches {
        if let Some(i) = batch.allocations.iter().position(|a| a.id == id) {
            return Some(batch.allocations.remove(i));
        }
    }
    None
}

async fn execute<S: Store>(
    store: &S,
    slots: &mut [Option<Warehouse<S>>; SLOTS],
    step: &Step,
) -> Outcome {
    macro_rules! uow {
        ($i:expr) => {{
            if slots[$i].is_none() {
                match Warehouse::begin(store).await {
                    Ok(uow) => slots[$i] = Some(uow),
                    Err(e) => return failed(e),
                }
            }
            slots[$i].as_mut().expect("open")
        }};
    }
    match *step {
        Step::Get { uow, sku } => change(uow!(uow), sku, |_| {}).await,
        Step::Add {
            uow,
            sku,
            batch: reference,
            tracking,
        } => {
            let mut product = Product::new(sku);
            product.batches.push(batch(reference, tracking));
            match uow!(uow).products.add(product) {
                Ok(()) => Outcome::Staged,
                Err(e) => failed(e),
            }
        }
        Step::Remove { uow, sku } => match uow!(uow).products.remove(&sku.to_owned()).await {
            Ok(()) => Outcome::Staged,
            Err(e) => failed(e),
        },
        Step::AddBatch {
            uow,
            sku,
            batch: reference,
            tracking,
        } => {
            change(uow!(uow), sku, |p| {
                p.batches.push(batch(reference, tracking))
            })
            .await
        }
        Step::ChangeBatch {
            uow,
            sku,
            batch,
            quantity,
        } => {
            change(uow!(uow), sku, |p| {
                if let Some(b) = p.batches.iter_mut().find(|b| b.reference == batch) {
                    b.quantity = quantity;
                }
            })
            .await
        }
        Step::Track {
            uow,
            sku,
            batch,
            tracking,
        } => {
            change(uow!(uow), sku, |p| {
                if let Some(b) = p.batches.iter_mut().find(|b| b.reference == batch) {
                    b.tracking = tracking.to_owned();
                }
            })
            .await
        }
        Step::RemoveBatch { uow, sku, batch } => {
            change(uow!(uow), sku, |p| {
                p.batches.retain(|b| b.reference != batch)
            })
            .await
        }
        Step::Reorder { uow, sku } => change(uow!(uow), sku, |p| p.batches.reverse()).await,
        Step::MoveBatch {
            uow,
            from,
            to,
            batch,
        } => {
            let unit = uow!(uow);
            let moved = match unit.products.get(&from.to_owned()).await {
                Ok(Some(p)) => match p.batches.iter().position(|b| b.reference == batch) {
                    Some(i) => p.batches.remove(i),
                    None => return Outcome::Product(Some(p.clone())),
                },
                Ok(None) => return Outcome::Product(None),
                Err(e) => return failed(e),
            };
            change(unit, to, |p| p.batches.push(moved)).await
        }
        Step::Allocate {
            uow,
            sku,
            batch,
            allocation,
            order,
        } => {
            change(uow!(uow), sku, |p| {
                if let Some(b) = p.batches.iter_mut().find(|b| b.reference == batch) {
                    b.allocations.push(Allocation {
                        id: allocation_id(allocation),
                        order: order.to_owned(),
                        quantity: 1,
                    });
                }
            })
            .await
        }
        Step::ChangeAllocation {
            uow,
            sku,
            allocation,
            quantity,
        } => {
            change(uow!(uow), sku, |p| {
                if let Some(a) = find_allocation(p, allocation_id(allocation)) {
                    a.quantity = quantity;
                }
            })
            .await
        }
        Step::MoveAllocation {
            uow,
            sku,
            allocation,
            batch,
        } => {
            change(uow!(uow), sku, |p| {
                if !p.batches.iter().any(|b| b.reference == batch) {
                    return;
                }
                if let Some(a) = take_allocation(p, allocation_id(allocation))
                    && let Some(b) = p.batches.iter_mut().find(|b| b.reference == batch)
                {
                    b.allocations.push(a);
                }
            })
            .await
        }
        Step::Deallocate {
            uow,
            sku,
            allocation,
        } => {
            change(uow!(uow), sku, |p| {
                take_allocation(p, allocation_id(allocation));
            })
            .await
        }
        Step::ByTracking { uow, tracking } => {
            match uow!(uow).products.get_by_batch_tracking(tracking).await {
                Ok(found) => Outcome::Product(found.map(|p| p.clone())),
                Err(e) => failed(e),
            }
        }
        Step::ByOrder { uow, order } => {
            match uow!(uow).products.find_by_allocation_order(order).await {
                Ok(found) => Outcome::Products(found.into_iter().map(|p| p.clone()).collect()),
                Err(e) => failed(e),
            }
        }
        Step::Commit { uow } => match slots[uow].take() {
            Some(unit) => match unit.commit().await {
                Ok(_) => Outcome::Committed,
                Err(e) => failed(e),
            },
            None => Outcome::Idle,
        },
        Step::Drop { uow } => match slots[uow].take() {
            Some(unit) => {
                drop(unit);
                Outcome::Dropped
            }
            None => Outcome::Idle,
        },
    }
}

fn listing(program: &[Step]) -> String {
    let mut out = String::new();
    for (i, step) in program.iter().enumerate() {
        let _ = writeln!(out, "  {i:>2}: {step:?}");
    }
    out
}

fn agree(program: &[Step], expected: &Trace, actual: &Trace, backend: &str) -> Result<(), String> {
    for (i, (want, got)) in expected.outcomes.iter().zip(&actual.outcomes).enumerate() {
        if want != got {
            return Err(format!(
                "step {i} {:?}:\n  in_memory: {want:?}\n  {backend}: {got:?}",
                program[i]
            ));
        }
    }
    if expected.stored != actual.stored {
        return Err(format!(
            "stored products at the end:\n  in_memory: {:?}\n  {backend}: {:?}",
            expected.stored, actual.stored
        ));
    }
    Ok(())
}

fn cases() -> u32 {
    match std::env::var("UOW_DIFFERENTIAL_CASES") {
        Ok(n) => n
            .parse()
            .unwrap_or_else(|_| panic!("UOW_DIFFERENTIAL_CASES={n} is not a number")),
        Err(_) => 1_000,
    }
}

/// What the programs exercised, to show they are not trivial.
#[derive(Default, Debug)]
struct Tally {
    programs: u64,
    steps: u64,
    commits: u64,
    conflicts: u64,
    duplicates: u64,
    duplicate_children: u64,
    stored_children: u64,
}

fn in_memory_against<B: uow_testing::Backend<Store = SqlxStore>>() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let Some(store) = runtime.block_on(B::fresh_with(TABLES)) else {
        return;
    };
    let config = Config {
        cases: cases(),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/proptest-regressions/differential_children.txt"
        )))),
        ..Config::default()
    };
    let started = Instant::now();
    let tally = RefCell::new(Tally::default());
    let mut runner = TestRunner::new(config);
    let outcome = runner.run(&program(), |program| {
        let trace = runtime.block_on(async {
            raw_sql::clear(
                &store,
                &[
                    "wh_allocations",
                    "wh_batches",
                    "wh_labels",
                    "wh_order_lines",
                    "wh_products",
                    "wh_orders",
                ],
            )
            .await;
            let expected = run(&InMemoryStore::new(), &program).await;
            let actual = run(&store, &program).await;
            agree(&program, &expected, &actual, B::NAME).map(|()| expected)
        });
        let trace = trace.map_err(TestCaseError::fail)?;
        let mut t = tally.borrow_mut();
        t.programs += 1;
        t.steps += trace.outcomes.len() as u64;
        for outcome in &trace.outcomes {
            match outcome {
                Outcome::Committed => t.commits += 1,
                Outcome::Failed(f) if f.starts_with("conflict") => t.conflicts += 1,
                Outcome::Failed(f) if f.starts_with("duplicate child") => t.duplicate_children += 1,
                Outcome::Failed(f) if f.starts_with("duplicate") => t.duplicates += 1,
                _ => {}
            }
        }
        if let Ok(products) = &trace.stored {
            t.stored_children += products
                .iter()
                .map(|p| {
                    p.batches.len() + p.batches.iter().map(|b| b.allocations.len()).sum::<usize>()
                })
                .sum::<usize>() as u64;
        }
        Ok(())
    });
    match outcome {
        Ok(()) => {
            let t = tally.into_inner();
            uow_tests::report(&format!(
                "child differential in_memory vs {}: {} programs agreed ({} steps, {} commits, {} conflicts, {} duplicate unique values, {} duplicate child ids, {} children and grandchildren stored at the ends) in {:.1} s",
                B::NAME,
                t.programs,
                t.steps,
                t.commits,
                t.conflicts,
                t.duplicates,
                t.duplicate_children,
                t.stored_children,
                started.elapsed().as_secs_f64()
            ));
        }
        Err(TestError::Fail(reason, program)) => panic!(
            "the in-memory store and {} disagree: {reason}\nminimal program:\n{}",
            B::NAME,
            listing(&program)
        ),
        Err(TestError::Abort(reason)) => panic!("proptest aborted: {reason}"),
    }
}

#[test]
fn child_in_memory_vs_sqlite() {
    in_memory_against::<Sqlite>();
}

#[test]
fn child_in_memory_vs_postgres() {
    in_memory_against::<Postgres>();
}

#[test]
fn child_in_memory_vs_mysql() {
    in_memory_against::<MySql>();
}
