//! The dirty check alone: what a commit costs per aggregate that a unit of
//! work tracks but did not change (issue 20: at most 0.5 µs at 100,000
//! tracked). On the in-memory store, whose commit of nothing writes
//! nothing, the commit is the dirty check: `collect_changes` of every
//! tracked aggregate and the empty change set.
//!
//! `uow-benches --dirty` prints the table; [`commit_unchanged`] is the
//! measurement, for any store holding the accounts `1..=n` (the scale
//! curves time it on the databases too).

use std::time::{Duration, Instant};

use uow_core::{Error, InMemoryStore, Store};

use crate::model::{Ledger, account};

/// The sizes measured: 1 … 100,000 tracked aggregates.
pub const TRACKED: [usize; 6] = [1, 10, 100, 1_000, 10_000, 100_000];

/// An in-memory store holding the accounts `1..=n`.
pub async fn store_of(n: usize) -> Result<InMemoryStore, Error> {
    let store = InMemoryStore::new();
    let mut uow = Ledger::begin(&store).await?;
    for id in 1..=n as i64 {
        uow.accounts.add(account(id))?;
    }
    uow.commit().await?;
    Ok(store)
}

/// Loads the first `n` accounts of `store` into one unit of work (not
/// timed), changes none of them, and times its commit.
pub async fn commit_unchanged<S: Store>(store: &S, n: usize) -> Result<Duration, Error> {
    let mut uow = Ledger::begin(store).await?;
    let loaded = uow.accounts.list(n as u64).await?.len();
    if loaded != n {
        return Err(Error::NotFound {
            aggregate: "Account",
            id: format!("{} of the first {n}", n - loaded),
        });
    }
    let start = Instant::now();
    let events = uow.commit().await?;
    let elapsed = start.elapsed();
    drop(events);
    Ok(elapsed)
}

/// Nanoseconds per unchanged aggregate at commit with `n` tracked: the
/// median of `runs` commits on the in-memory store.
pub async fn ns_per_unchanged(n: usize, runs: usize) -> Result<f64, Error> {
    let store = store_of(n).await?;
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        samples.push(commit_unchanged(&store, n).await?.as_nanos() as f64 / n as f64);
    }
    Ok(crate::harness::median(&samples))
}

/// Prints, for each of [`TRACKED`], the commit time and the time per
/// unchanged aggregate (`uow-benches --dirty`).
pub async fn print(runs: usize) -> Result<(), Error> {
    println!("| tracked, unchanged | commit | per unchanged aggregate |");
    println!("|---|---|---|");
    for n in TRACKED {
        // Fewer commits where each takes long.
        let runs = (runs * 1_000 / n).clamp(5, runs.max(5));
        let ns = ns_per_unchanged(n, runs).await?;
        println!(
            "| {} | {:.1} µs | {:.0} ns |",
            crate::harness::thousands(n),
            ns * n as f64 / 1_000.0,
            ns
        );
    }
    Ok(())
}
