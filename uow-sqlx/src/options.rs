//! How a store is set up: [`StoreOptions`] and the [`Isolation`] level of
//! its units of work. Each database's driver reads what applies to it when
//! it opens its pool and begins a unit of work.

use std::time::Duration;

/// How long a SQLite relay's lease lasts without renewal, by default.
const LEASE: Duration = Duration::from_secs(30);

/// The isolation level of a unit of work's transaction on PostgreSQL and
/// MySQL/MariaDB. SQLite transactions are always serializable.
///
/// Whatever the level, lost updates are prevented by the version check on
/// every `UPDATE` and `DELETE`. A higher level adds consistency between the
/// reads of one unit of work, at the price of the database aborting more
/// transactions; those aborts surface as retryable errors
/// ([`Error::is_conflict`](uow_core::Error::is_conflict)) that [`uow_core::retry`] re-runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Isolation {
    /// Each read sees what was committed when it ran — the same view the
    /// in-memory store gives. The default. Reads then need no transaction:
    /// they run in autocommit mode on the unit's connection, and the
    /// transaction spans the commit's writes only (a commit of one update:
    /// one statement, without `BEGIN`/`COMMIT`).
    #[default]
    ReadCommitted,
    /// All reads of a unit of work see one snapshot: its transaction is
    /// opened at `begin`.
    RepeatableRead,
    /// Units of work behave as if run one after the other: its transaction
    /// is opened at `begin`.
    Serializable,
}

impl Isolation {
    /// The level's SQL name.
    #[cfg_attr(not(any(feature = "postgres", feature = "mysql")), allow(dead_code))]
    pub(crate) fn sql(self) -> &'static str {
        match self {
            Isolation::ReadCommitted => "READ COMMITTED",
            Isolation::RepeatableRead => "REPEATABLE READ",
            Isolation::Serializable => "SERIALIZABLE",
        }
    }
}

/// How [`SqlxStore::connect_with`](crate::SqlxStore::connect_with) sets up its pool.
///
/// ```
/// use std::time::Duration;
/// use uow_sqlx::{Isolation, StoreOptions};
///
/// let options = StoreOptions::new()
///     .max_connections(32)
///     .acquire_timeout(Duration::from_secs(2))
///     .isolation(Isolation::Serializable);
/// # let _ = options;
/// ```
#[derive(Clone, Debug)]
pub struct StoreOptions {
    pub(crate) max_connections: u32,
    pub(crate) acquire_timeout: Duration,
    pub(crate) busy_timeout: Duration,
    pub(crate) isolation: Isolation,
    pub(crate) commit_markers: Option<bool>,
    pub(crate) commit_markers_kept: Duration,
    pub(crate) lock_timeout: Option<Duration>,
    pub(crate) statement_timeout: Option<Duration>,
    pub(crate) relay_lease: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(10),
            busy_timeout: Duration::from_secs(5),
            isolation: Isolation::ReadCommitted,
            commit_markers: None,
            commit_markers_kept: Duration::from_secs(3_600),
            lock_timeout: None,
            statement_timeout: None,
            relay_lease: LEASE,
        }
    }
}

impl StoreOptions {
    /// The defaults: 10 connections, 10 s to acquire one, 5 s SQLite busy
    /// timeout, READ COMMITTED, commit markers on PostgreSQL and MySQL (not
    /// SQLite) kept for an hour, no lock or statement timeout of uow's own
    /// (the server's apply).
    pub fn new() -> Self {
        StoreOptions::default()
    }

    /// Whether commits write a commit marker: on by default for PostgreSQL
    /// and MySQL/MariaDB, off for SQLite.
    ///
    /// With markers, a commit whose connection fails after `COMMIT` may have
    /// reached the server is checked on a new connection and reported
    /// truthfully: success if it was stored, a retryable error if it was not,
    /// [`Error::CommitOutcomeUnknown`](uow_core::Error::CommitOutcomeUnknown) only when the database cannot be
    /// reached to check; and [`Store::commit_outcome`](uow_core::Store::commit_outcome) can answer for any
    /// unit of work. The price is one `INSERT` per commit that writes
    /// something (one round trip on a server; BENCHMARKS.md (6) has the
    /// figures), and the `uow_commits` table
    /// ([`create_tables`](crate::SqlxStore::create_tables) creates it,
    /// [`ddl`](crate::SqlxStore::ddl) prints it). Without markers a connection that
    /// fails during `COMMIT` is reported as [`Error::CommitOutcomeUnknown`](uow_core::Error::CommitOutcomeUnknown).
    ///
    /// SQLite runs in the process, with no connection to lose between `COMMIT`
    /// and its answer, and the marker costs a third of its commit rate: off by
    /// default there. A commit whose future is dropped runs on in the
    /// background on every backend, and [`Store::commit_outcome`](uow_core::Store::commit_outcome) answers for
    /// it from what the store saw, markers or not.
    pub fn commit_markers(mut self, on: bool) -> Self {
        self.commit_markers = Some(on);
        self
    }

    /// How long commit markers are kept before they are pruned (one hour by
    /// default): the time within which [`Store::commit_outcome`](uow_core::Store::commit_outcome) can answer.
    pub fn commit_markers_kept(mut self, kept: Duration) -> Self {
        self.commit_markers_kept = kept;
        self
    }

    /// The longest a statement of a unit of work waits for a row lock
    /// before it fails with the retryable [`Error::Timeout`](uow_core::Error::Timeout). PostgreSQL:
    /// `SET LOCAL lock_timeout`, sent with each unit of work's `BEGIN` (no
    /// extra round trip; queries of your own on the pool are not limited).
    /// MySQL/MariaDB: the session's `innodb_lock_wait_timeout` (whole
    /// seconds, at least one), set on every connection of the pool when it
    /// opens. SQLite's equivalent is the [`busy_timeout`](Self::busy_timeout).
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = Some(timeout);
        self
    }

    /// How long a SQLite outbox relay's lease lasts (30 s by default). A
    /// relay renews it every third of that while it publishes, so a slow
    /// publisher keeps it; a relay that stopped (crashed) loses it after
    /// this long, and another relay takes over.
    pub fn relay_lease(mut self, lease: Duration) -> Self {
        self.relay_lease = lease.max(Duration::from_millis(3));
        self
    }

    /// The longest one statement may run before it fails with the retryable
    /// [`Error::Timeout`](uow_core::Error::Timeout): PostgreSQL `SET LOCAL statement_timeout` with each
    /// unit of work's `BEGIN`; MariaDB `max_statement_time` (MySQL
    /// `max_execution_time`, which covers reads only) on every connection of
    /// the pool. No effect on SQLite.
    pub fn statement_timeout(mut self, timeout: Duration) -> Self {
        self.statement_timeout = Some(timeout);
        self
    }

    /// The most connections the pool opens. Each unit of work holds one for
    /// its whole life, so this bounds the units of work running at once.
    pub fn max_connections(mut self, max: u32) -> Self {
        self.max_connections = max.max(1);
        self
    }

    /// How long `begin` waits for a free connection before failing with a
    /// backend error (rather than hanging when the pool is exhausted).
    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// How long a SQLite writer waits for the write lock before failing
    /// with a retryable error.
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// The isolation level of units of work (PostgreSQL, MySQL/MariaDB).
    pub fn isolation(mut self, isolation: Isolation) -> Self {
        self.isolation = isolation;
        self
    }
}
