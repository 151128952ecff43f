//! The one error type of uow: every store, repository and unit of work
//! returns [`Error`], whose variants a caller can match.

use std::fmt;

/// What went wrong in a unit of work.
///
/// Whatever the variant, a unit of work that fails leaves the stored state as
/// it was before it began: nothing is written until `commit()`, and `commit()`
/// is atomic.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Another unit of work changed or removed the aggregate since it was
    /// loaded: the version check (`WHERE id = ? AND version = ?`) matched no
    /// row. Retrying the whole unit of work (see [`retry`](crate::retry)) loads
    /// the new state and applies the business rule again.
    #[error(
        "version conflict on {aggregate} `{id}`: expected version {expected}, but another unit of work changed or removed it since it was loaded; nothing was committed, retry the unit of work"
    )]
    Conflict {
        /// The aggregate's type name.
        aggregate: &'static str,
        /// The aggregate's id, as text.
        id: String,
        /// The version this unit of work loaded and expected to replace.
        expected: u64,
    },

    /// An operation needs an aggregate that is not stored (e.g. `remove`).
    #[error("{aggregate} `{id}` not found")]
    NotFound {
        /// The aggregate's type name.
        aggregate: &'static str,
        /// The id that was looked up, as text.
        id: String,
    },

    /// `add` of an aggregate whose id (or `unique` field) is already taken.
    #[error(
        "{aggregate} `{id}` cannot be added: its {column} is already taken by another {aggregate}; nothing was committed"
    )]
    Duplicate {
        /// The aggregate's type name.
        aggregate: &'static str,
        /// The id of the aggregate being added, as text.
        id: String,
        /// The column whose value is taken: the id column or a `unique` one.
        column: String,
    },

    /// A loaded aggregate's id field was changed. Ids are identity: remove
    /// the aggregate and add a new one instead.
    #[error(
        "the id of {aggregate} `{id}` was changed after it was loaded; ids are identity, so remove it and add a new {aggregate} instead"
    )]
    IdChanged {
        /// The aggregate's type name.
        aggregate: &'static str,
        /// The id it was loaded with.
        id: String,
    },

    /// A stored row could not be turned into the aggregate: a NULL in a field
    /// that is not an `Option`, JSON that does not fit the field's type, an
    /// integer out of the field's range.
    #[error("cannot decode {table}.{column} of {aggregate} `{id}`: {reason}")]
    Decode {
        /// The aggregate's type name.
        aggregate: &'static str,
        /// The table read.
        table: &'static str,
        /// The column at fault.
        column: &'static str,
        /// The id of the row, as text (`?` when the id column itself is unreadable).
        id: String,
        /// What was wrong with the value.
        reason: String,
    },

    /// A field's value cannot be stored (a `u64` above `i64::MAX`, a value
    /// whose `Serialize` fails).
    #[error("cannot store {aggregate}.{field} of `{id}`: {reason}")]
    Encode {
        /// The aggregate's type name.
        aggregate: &'static str,
        /// The field at fault.
        field: &'static str,
        /// The aggregate's id, as text (`?` when the id itself cannot be encoded).
        id: String,
        /// What was wrong with the value.
        reason: String,
    },

    /// A table does not fit the aggregate stored in it: the table or a column
    /// is missing, or a column's type or nullability does not match the
    /// field. Reported by the schema verification of a database store.
    #[error(
        "table `{table}`{}: {problem}; change the table (a migration) or the aggregate so they agree",
        column.as_ref().map(|c| format!(", column `{c}`")).unwrap_or_default()
    )]
    Schema {
        /// The table.
        table: String,
        /// The column, unless the whole table is at fault.
        column: Option<String>,
        /// What does not fit.
        problem: String,
    },

    /// The database failed: connection lost, table missing, statement
    /// rejected. [`BackendError::rolled_back`] says whether a commit was
    /// rolled back; [`Error::is_retryable`] whether re-running the unit of
    /// work may succeed (a connection lost before anything was written,
    /// contention).
    #[error("{0}")]
    Backend(#[from] BackendError),

    /// A lock wait or a statement took longer than the store's limit
    /// (`StoreOptions::lock_timeout`, `StoreOptions::statement_timeout` in
    /// uow-sqlx). The statement was cancelled and nothing of the unit of work
    /// was committed; re-running it may succeed once the lock is free.
    #[error(
        "{kind} during {operation}: the database cancelled the statement; nothing was committed, retry the unit of work"
    )]
    Timeout {
        /// What uow was doing (`"commit"`, `"load from products"`, ...).
        operation: String,
        /// Which limit was reached.
        kind: TimeoutKind,
        /// The driver's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// The connection failed after the commit may have reached the database,
    /// and the database could not be reached again to find out whether it
    /// was stored. The unit of work may or may not be stored: do not simply
    /// re-run it. Ask the store later with `Store::commit_outcome(unit_id)`
    /// (which also makes sure that a commit still in flight can no longer
    /// land) and re-run it only if that answers
    /// [`CommitOutcome::NotCommitted`](crate::CommitOutcome::NotCommitted).
    #[error(
        "the outcome of the commit of unit of work `{unit_id}` is unknown: the connection failed during the commit ({source}) and the database could not be reached to check whether it was stored; ask the store for the outcome of `{unit_id}` before running it again"
    )]
    CommitOutcomeUnknown {
        /// The unit of work's id (`Repository::unit_id`).
        unit_id: String,
        /// The failure of the commit.
        #[source]
        source: BackendError,
    },
}

/// Which limit a [`Error::Timeout`] reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutKind {
    /// Waiting for a row lock (PostgreSQL `lock_timeout`, InnoDB
    /// `innodb_lock_wait_timeout`, SQLite's busy timeout).
    LockWait,
    /// Running one statement (PostgreSQL `statement_timeout`, MariaDB
    /// `max_statement_time`).
    Statement,
}

impl fmt::Display for TimeoutKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeoutKind::LockWait => "lock wait timeout",
            TimeoutKind::Statement => "statement timeout",
        })
    }
}

impl Error {
    /// `true` when re-running the whole unit of work may succeed, and is
    /// safe because nothing of this attempt was stored: a version conflict,
    /// contention the database reported (serialization failure, deadlock,
    /// busy), a lock wait or statement timeout, a connection lost before the
    /// commit was sent or whose commit was checked and found not stored.
    ///
    /// This is the one classification: [`retry`](crate::retry) retries
    /// exactly the errors for which it is `true`, and so should a caller's
    /// own retry loop. [`Error::CommitOutcomeUnknown`] is not retryable: the
    /// unit of work may be stored.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Conflict { .. } | Error::Timeout { .. } => true,
            Error::Backend(e) => e.retryable,
            Error::NotFound { .. }
            | Error::Duplicate { .. }
            | Error::IdChanged { .. }
            | Error::Decode { .. }
            | Error::Encode { .. }
            | Error::Schema { .. }
            | Error::CommitOutcomeUnknown { .. } => false,
        }
    }

    /// The same as [`is_retryable`](Self::is_retryable) (its older name).
    pub fn is_conflict(&self) -> bool {
        self.is_retryable()
    }
}

/// A failure of the database or driver underneath a store.
#[derive(Debug)]
pub struct BackendError {
    /// What uow was doing (`"commit"`, `"load products"`, ...).
    pub operation: String,
    /// Whether a retry of the unit of work may clear it and is safe: the
    /// database reported transient contention (serialization failure,
    /// deadlock, busy), or the connection failed before anything was stored.
    pub retryable: bool,
    /// Whether a commit was under way and rolled back: nothing of the unit
    /// of work was stored. `false` for failures outside a commit (connect,
    /// begin, a read), where no unit of work was rolled back by the failure.
    pub rolled_back: bool,
    /// The driver's error.
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

impl BackendError {
    /// A backend failure during `operation`.
    pub fn new(
        operation: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        BackendError {
            operation: operation.into(),
            retryable: false,
            rolled_back: false,
            source: source.into(),
        }
    }

    /// Marks the failure as one a retry of the unit of work may clear.
    pub fn retryable(mut self) -> Self {
        self.retryable = true;
        self
    }

    /// Marks the failure as one of a commit that was rolled back.
    pub fn rolled_back(mut self) -> Self {
        self.rolled_back = true;
        self
    }
}

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "database error during {}: {}",
            self.operation, self.source
        )?;
        if self.rolled_back {
            f.write_str("; the unit of work was rolled back, nothing of it was stored")?;
        }
        Ok(())
    }
}

impl std::error::Error for BackendError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflict_message_names_aggregate_id_and_version() {
        let e = Error::Conflict {
            aggregate: "Product",
            id: "RED-CHAIR".into(),
            expected: 3,
        };
        let text = e.to_string();
        assert!(text.contains("Product `RED-CHAIR`"), "{text}");
        assert!(text.contains("expected version 3"), "{text}");
        assert!(e.is_conflict());
    }

    #[test]
    fn only_conflicts_and_retryable_backend_errors_are_retried() {
        let busy = Error::Backend(BackendError::new("commit", "database is locked").retryable());
        let gone = Error::Backend(BackendError::new("commit", "connection reset"));
        assert!(busy.is_conflict());
        assert!(!gone.is_conflict());
        let unknown = Error::CommitOutcomeUnknown {
            unit_id: "u-1".into(),
            source: BackendError::new("commit", "connection reset"),
        };
        assert!(!unknown.is_retryable());
        assert!(unknown.to_string().contains("unknown"), "{unknown}");
        assert!(
            !Error::NotFound {
                aggregate: "Product",
                id: "x".into()
            }
            .is_conflict()
        );
    }
}

#[cfg(test)]
mod message_tests {
    use super::*;

    #[test]
    fn only_a_rolled_back_commit_says_rolled_back() {
        let begin = BackendError::new("begin a unit of work", "pool timed out");
        assert!(!begin.to_string().contains("rolled back"), "{begin}");
        let commit = BackendError::new("commit", "connection reset").rolled_back();
        assert!(commit.to_string().contains("rolled back"), "{commit}");
    }

    #[test]
    fn timeouts_are_retryable_and_say_which_limit() {
        let e = Error::Timeout {
            operation: "commit".into(),
            kind: TimeoutKind::LockWait,
            source: "canceling statement due to lock timeout".into(),
        };
        assert!(e.is_retryable());
        assert!(
            e.to_string().starts_with("lock wait timeout during commit"),
            "{e}"
        );
    }
}
