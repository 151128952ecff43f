//! The compile-time cost of the derives: `compile-derived` (20 aggregates
//! with `#[derive(Aggregate)]`) against `compile-serde-only` (the same structs
//! with serde's derives only), each rebuilt by `cargo build` after touching
//! its source, dependencies already built.
//!
//! The builds use a target directory of their own (`target/bench-compile`) so
//! they never wait for a lock held by a build of the main workspace, and
//! `CARGO_INCREMENTAL=0` so each build compiles the crate from scratch
//! instead of replaying an incremental cache of unchanged source.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use crate::handwritten::BoxError;

pub const DERIVED: &str = "compile-derived";
pub const SERDE_ONLY: &str = "compile-serde-only";

#[derive(Clone, Debug)]
pub struct CompileTimes {
    /// Seconds per build, by crate, warm-up excluded.
    pub derived: Vec<f64>,
    pub serde_only: Vec<f64>,
    /// A `cargo build` with nothing to do: cargo's own share of each build.
    pub noop: Vec<f64>,
    pub profile: &'static str,
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

fn build(benches: &Path, target: &Path, package: &str) -> Result<Duration, BoxError> {
    let start = Instant::now();
    let output = Command::new(cargo())
        .args(["build", "--quiet", "--offline", "--manifest-path"])
        .arg(benches.join("Cargo.toml"))
        .args(["-p", package])
        .env("CARGO_TARGET_DIR", target)
        .env("CARGO_INCREMENTAL", "0")
        .env_remove("RUSTFLAGS")
        .output()?;
    let elapsed = start.elapsed();
    if !output.status.success() {
        return Err(format!(
            "cargo build -p {package} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    Ok(elapsed)
}

fn touch(path: &Path) -> Result<(), BoxError> {
    let file = std::fs::OpenOptions::new().write(true).open(path)?;
    file.set_modified(SystemTime::now())?;
    Ok(())
}

/// Builds both crates once (dependencies; not timed), then `1 + runs`
/// rounds of touch-and-build for each, alternating which goes first.
pub fn measure(benches: &Path, runs: usize) -> Result<CompileTimes, BoxError> {
    let target: PathBuf = benches.join("../target/bench-compile");
    let source = |package: &str| {
        let dir = if package == DERIVED {
            "derived"
        } else {
            "serde-only"
        };
        benches.join("compile").join(dir).join("src/lib.rs")
    };
    eprintln!("compile time: building the dependencies of {DERIVED} and {SERDE_ONLY} ...");
    build(benches, &target, DERIVED)?;
    build(benches, &target, SERDE_ONLY)?;
    let mut times = CompileTimes {
        derived: Vec::new(),
        serde_only: Vec::new(),
        noop: Vec::new(),
        profile: "dev (cargo build), CARGO_INCREMENTAL=0",
    };
    for run in 0..=runs {
        let order = if run % 2 == 0 {
            [DERIVED, SERDE_ONLY]
        } else {
            [SERDE_ONLY, DERIVED]
        };
        for package in order {
            touch(&source(package))?;
            let elapsed = build(benches, &target, package)?.as_secs_f64();
            eprintln!("compile time: {package} {elapsed:.2} s");
            if run > 0 {
                if package == DERIVED {
                    times.derived.push(elapsed);
                } else {
                    times.serde_only.push(elapsed);
                }
            }
        }
        let noop = build(benches, &target, DERIVED)?.as_secs_f64();
        if run > 0 {
            times.noop.push(noop);
        }
    }
    Ok(times)
}

pub fn median(samples: &[f64]) -> f64 {
    let mut s = samples.to_vec();
    s.sort_by(f64::total_cmp);
    match s.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    }
}
