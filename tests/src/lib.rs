//! Shared fixtures of the workspace tests: a small banking domain whose
//! aggregates exercise every storage feature, and the backends the contract
//! suite runs against.

pub mod backends;

pub use uow_testing::{on_backends, report};
/// `error`'s message and its sources' messages, joined by `": "`: what an
/// error reporter (anyhow's `{:#}`, eyre) prints.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut next = error.source();
    while let Some(source) = next {
        text.push_str(": ");
        text.push_str(&source.to_string());
        next = source.source();
    }
    text
}

/// The messages of `error` and its sources, outermost first.
pub fn error_messages(error: &(dyn std::error::Error + 'static)) -> Vec<String> {
    std::iter::successors(Some(error), |e| (*e).source())
        .map(ToString::to_string)
        .collect()
}

pub mod bank;
pub mod counting;
pub mod raw_sql;
pub mod warehouse;

/// The README's code, compiled and run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

/// uow-core as this crate sees it, re-exported for the compile test of the
/// `crate = "..."` override (`#[aggregate(crate = "::uow_tests::uow_core")]`).
pub use uow_core;
