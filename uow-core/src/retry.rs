//! Re-running a whole unit of work when it lost a race.
//!
//! [`retry`] re-runs at once; [`retry_with`] waits between attempts (an
//! exponential backoff with full jitter) on the timer the caller passes in —
//! `tokio::time::sleep`, or any runtime's — so this crate stays free of an
//! async runtime.
//!
//! **The closure runs again from its start on every attempt.** Whatever it
//! does besides its unit of work — send an e-mail, call another service,
//! push to a channel, bump a counter — is done once per attempt. Keep such
//! effects out of the closure (do them after it returns), or make them
//! idempotent, or store them with the unit of work (the outbox).

use std::future::Future;
use std::time::Duration;

use crate::error::Error;

/// An error that can say whether re-running the unit of work may succeed.
///
/// Implemented for [`Error`] by [`Error::is_retryable`], the one
/// classification of retryable failures. A service's own error type
/// implements it by asking the `uow_core::Error` it wraps.
pub trait Retryable {
    /// `true` when a fresh attempt may succeed.
    fn is_retryable(&self) -> bool;
}

impl Retryable for Error {
    fn is_retryable(&self) -> bool {
        Error::is_retryable(self)
    }
}

/// Runs `operation` up to `attempts` times (at least once), again at once
/// each time it fails with a retryable error ([`Error::is_retryable`]), and
/// returns the first success or the last error.
///
/// Each attempt must begin its own unit of work, so that it reads the state
/// the winning unit of work committed and applies the business rule to it.
/// **`operation` runs again from its start on every attempt**: whatever it
/// does besides its unit of work (an e-mail, a call to another service, a
/// message on a channel) is done once per attempt. Do such things after
/// `retry` returns, make them idempotent, or store them with the unit of
/// work (the outbox). Under heavy contention on one aggregate, prefer
/// [`retry_with`], whose pauses spread the contenders out.
///
/// ```
/// # use uow_core::{Error, retry};
/// # async fn rename(_: &str) -> Result<(), Error> { Ok(()) }
/// # async fn run() -> Result<(), Error> {
/// retry(3, || rename("new name")).await
/// # }
/// ```
pub async fn retry<T, E, F, Fut>(attempts: u32, operation: F) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: Retryable,
{
    retry_with(
        &RetryPolicy::new(attempts).backoff(Duration::ZERO, Duration::ZERO),
        |_| std::future::ready(()),
        operation,
    )
    .await
}

/// How [`retry_with`] retries: how many attempts, and how long it pauses
/// between them.
///
/// The pause before attempt `n + 1` is drawn at random between zero and
/// `min(max, base × 2ⁿ⁻¹)` ("full jitter"): contenders that failed together
/// come back at different times, and the expected total wait stays small.
///
/// ```
/// use std::time::Duration;
/// use uow_core::RetryPolicy;
///
/// let policy = RetryPolicy::new(8).backoff(Duration::from_millis(2), Duration::from_millis(200));
/// assert_eq!(policy.attempts(), 8);
/// assert!(policy.pause(3) <= Duration::from_millis(8));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    attempts: u32,
    base: Duration,
    max: Duration,
}

impl RetryPolicy {
    /// Up to `attempts` attempts (at least one), pausing 0–5 ms after the
    /// first failure, doubling up to 0–1 s.
    pub fn new(attempts: u32) -> Self {
        RetryPolicy {
            attempts: attempts.max(1),
            base: Duration::from_millis(5),
            max: Duration::from_secs(1),
        }
    }

    /// Pauses of at most `base` after the first failure, doubling after each
    /// further one, never more than `max`. `Duration::ZERO` retries at once.
    pub fn backoff(mut self, base: Duration, max: Duration) -> Self {
        self.base = base;
        self.max = max.max(base);
        self
    }

    /// The most attempts.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// A pause to take after failed attempt `failed` (1-based): random,
    /// between zero and the backoff's bound for that attempt.
    pub fn pause(&self, failed: u32) -> Duration {
        let doubling = failed.saturating_sub(1).min(31);
        let bound = self.base.saturating_mul(1u32 << doubling).min(self.max);
        let nanos = u64::try_from(bound.as_nanos()).unwrap_or(u64::MAX);
        if nanos == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos(random() % (nanos + 1))
    }
}

impl Default for RetryPolicy {
    /// Five attempts, 0–5 ms doubling up to 0–1 s.
    fn default() -> Self {
        RetryPolicy::new(5)
    }
}

/// Runs `operation` as [`retry`] does — again from its start on every
/// attempt, side effects included — pausing between attempts as `policy`
/// says; `sleep` is the timer of the caller's runtime (`tokio::time::sleep`).
///
/// ```
/// # use std::time::Duration;
/// # use uow_core::{Error, RetryPolicy, retry_with};
/// # async fn allocate(_: &str) -> Result<(), Error> { Ok(()) }
/// # async fn run() -> Result<(), Error> {
/// let policy = RetryPolicy::new(10).backoff(Duration::from_millis(2), Duration::from_millis(250));
/// retry_with(&policy, tokio::time::sleep, || allocate("order-1")).await
/// # }
/// ```
pub async fn retry_with<T, E, F, Fut, S, SleepFut>(
    policy: &RetryPolicy,
    mut sleep: S,
    mut operation: F,
) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: Retryable,
    S: FnMut(Duration) -> SleepFut,
    SleepFut: Future<Output = ()>,
{
    let mut failed = 0;
    loop {
        match operation().await {
            Err(e) if failed + 1 < policy.attempts && e.is_retryable() => {
                failed += 1;
                let pause = policy.pause(failed);
                if !pause.is_zero() {
                    sleep(pause).await;
                }
            }
            outcome => return outcome,
        }
    }
}

/// A random number for jitter: a per-thread xorshift seeded from the
/// standard library's randomly keyed hasher (no dependency for 64 bits of
/// jitter).
fn random() -> u64 {
    use std::cell::Cell;
    use std::hash::{BuildHasher, Hasher};
    thread_local! {
        static STATE: Cell<u64> = Cell::new({
            let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
            hasher.write_u64(crate::outbox::now_micros() as u64);
            hasher.finish() | 1
        });
    }
    STATE.with(|state| {
        let mut x = state.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        state.set(x);
        x
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    fn conflict() -> Error {
        Error::Conflict {
            aggregate: "Product",
            id: "p".into(),
            expected: 1,
        }
    }

    #[test]
    fn pauses_grow_to_the_bound_and_never_past_it() {
        let policy =
            RetryPolicy::new(20).backoff(Duration::from_millis(4), Duration::from_millis(100));
        for failed in 1..20u32 {
            let bound = Duration::from_millis((4u64 << (failed - 1).min(20)).min(100));
            for _ in 0..50 {
                assert!(policy.pause(failed) <= bound, "attempt {failed}");
            }
        }
        // Jitter: the pauses of one attempt are not all the same.
        let pauses: std::collections::HashSet<_> = (0..20).map(|_| policy.pause(5)).collect();
        assert!(pauses.len() > 1);
    }

    #[tokio::test]
    async fn retry_with_sleeps_between_retryable_failures_only() {
        let slept = RefCell::new(Vec::new());
        let calls = RefCell::new(0);
        let policy =
            RetryPolicy::new(4).backoff(Duration::from_millis(1), Duration::from_millis(10));
        let outcome: Result<(), Error> = retry_with(
            &policy,
            |d| {
                slept.borrow_mut().push(d);
                std::future::ready(())
            },
            || {
                *calls.borrow_mut() += 1;
                std::future::ready(Err(conflict()))
            },
        )
        .await;
        assert!(outcome.is_err());
        assert_eq!(*calls.borrow(), 4, "all attempts were made");
        assert!(slept.borrow().len() <= 3, "a pause between attempts only");

        *calls.borrow_mut() = 0;
        let outcome: Result<(), Error> = retry_with(
            &policy,
            |_| std::future::ready(()),
            || {
                *calls.borrow_mut() += 1;
                std::future::ready(Err(Error::NotFound {
                    aggregate: "Product",
                    id: "p".into(),
                }))
            },
        )
        .await;
        assert!(outcome.is_err());
        assert_eq!(
            *calls.borrow(),
            1,
            "a failure no retry clears is returned at once"
        );
    }
}
