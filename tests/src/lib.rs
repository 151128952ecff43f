//! Shared fixtures of the workspace tests: a small banking domain whose
//! aggregates exercise every storage feature, and the backends the contract
//! suite runs against.

pub mod backends;

/// Prints a line of figures (conflicts retried, statements sent) where a
/// test run shows it: past the test harness's output capture.
pub fn report(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}
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

/// Instantiates generic scenarios (`async fn name<B: Backend>()`, in scope as
/// `scenarios::name`) once per backend, as `#[tokio::test]`s named
/// `<backend>::<name>`.
///
/// `on_backends!([in_memory, sqlite, postgres, mysql] scenarios: [a, b, c]);`
#[macro_export]
macro_rules! on_backends {
    ([$($backend:ident),* $(,)?] $module:ident: $scenarios:tt) => {
        $(
            $crate::on_backends!(@backend $backend $module: $scenarios);
        )*
    };
    (@backend $backend:ident $module:ident: [$($scenario:ident),* $(,)?]) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$module::$scenario::<$crate::on_backends!(@type $backend)>().await;
                }
            )*
        }
    };
    (@type in_memory) => { $crate::backends::InMemory };
    (@type sqlite) => { $crate::backends::Sqlite };
    (@type postgres) => { $crate::backends::Postgres };
    (@type mysql) => { $crate::backends::MySql };
}

/// The README's code, compiled and run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

/// uow-core as this crate sees it, re-exported for the compile test of the
/// `crate = "..."` override (`#[aggregate(crate = "::uow_tests::uow_core")]`).
pub use uow_core;
