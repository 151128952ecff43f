//! Shared fixtures of the workspace tests: a small banking domain whose
//! aggregates exercise every storage feature, and the backends the contract
//! suite runs against.

pub mod backends;

pub use uow_testing::{on_backends, report};
pub mod bank;
pub mod counting;
pub mod raw_sql;

/// The README's code, compiled and run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

/// uow-core as this crate sees it, re-exported for the compile test of the
/// `crate = "..."` override (`#[aggregate(crate = "::uow_tests::uow_core")]`).
pub use uow_core;
