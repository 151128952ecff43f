//! Shared fixtures of the workspace tests: a small banking domain whose
//! aggregates exercise every storage feature, and the backends the contract
//! suite runs against.

pub mod backends;
pub mod bank;
pub mod counting;

/// The README's code, compiled and run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
