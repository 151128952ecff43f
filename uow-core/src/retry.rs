//! Re-running a whole unit of work when it lost a race.

use std::future::Future;

use crate::error::Error;

/// An error that can say whether re-running the unit of work may succeed.
///
/// Implemented for [`Error`] (conflicts and retryable contention). A service's
/// own error type implements it by asking the `uow_core::Error` it wraps.
pub trait Retryable {
    /// `true` when a fresh attempt may succeed.
    fn is_retryable(&self) -> bool;
}

impl Retryable for Error {
    fn is_retryable(&self) -> bool {
        Error::is_retryable(self)
    }
}

/// Runs `operation` up to `attempts` times (at least once), again each time
/// it fails with a retryable error (a version conflict), and returns the first
/// success or the last error.
///
/// Each attempt must begin its own unit of work, so that it reads the state
/// the winning unit of work committed and applies the business rule to it:
///
/// ```
/// # use uow_core::{Error, retry};
/// # async fn rename(_: &str) -> Result<(), Error> { Ok(()) }
/// # async fn run() -> Result<(), Error> {
/// retry(3, || rename("new name")).await
/// # }
/// ```
pub async fn retry<T, E, F, Fut>(attempts: u32, mut operation: F) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: Retryable,
{
    let mut remaining = attempts.max(1);
    loop {
        remaining -= 1;
        match operation().await {
            Err(e) if remaining > 0 && e.is_retryable() => continue,
            outcome => return outcome,
        }
    }
}
