//! The one error type of uow: every store, repository and unit of work
//! returns [`Error`], whose variants a caller can match.

use std::fmt;

use crate::value::ValueError;

/// What went wrong in a unit of work.
///
/// Whatever the variant, a unit of work that fails leaves the stored state as
/// it was before it began: nothing is written until `commit()`, and `commit()`
/// is atomic.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Another unit of work changed or removed the aggregate since it was
    /// loaded: the version check (`WHERE id = ? AND version = ?`) matched no
    /// row. Retrying the whole unit of work (see [`retry`](crate::retry)) loads
    /// the new state and applies the business rule again.
    Conflict {
        /// The aggregate's type name.
        aggregate: &'static str,
        /// The aggregate's id, as text.
        id: String,
        /// The version this unit of work loaded and expected to replace.
        expected: u64,
    },

    /// An operation needs an aggregate that is not stored (e.g. `remove`).
    NotFound {
        /// The aggregate's type name.
        aggregate: &'static str,
        /// The id that was looked up, as text.
        id: String,
    },

    /// `add` of an aggregate whose id (or `unique` field) is already taken.
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
    IdChanged {
        /// The aggregate's type name.
        aggregate: &'static str,
        /// The id it was loaded with.
        id: String,
    },

    /// A stored row could not be turned into the aggregate: a NULL in a field
    /// that is not an `Option`, JSON that does not fit the field's type, an
    /// integer out of the field's range.
    Decode {
        /// The aggregate's type name.
        aggregate: &'static str,
        /// The table read.
        table: &'static str,
        /// The column at fault.
        column: &'static str,
        /// The id of the row, as text (`?` when the id column itself is unreadable).
        id: String,
        /// What was wrong with the value (its kind, and its cause as its
        /// `source()`).
        reason: ValueError,
    },

    /// A field's value cannot be stored (a `u64` above `i64::MAX`, a value
    /// whose `Serialize` fails).
    Encode {
        /// The aggregate's type name.
        aggregate: &'static str,
        /// The field at fault.
        field: &'static str,
        /// The aggregate's id, as text (`?` when the id itself cannot be encoded).
        id: String,
        /// What was wrong with the value (its kind, and its cause as its
        /// `source()`).
        reason: ValueError,
    },

    /// A table does not fit the aggregate stored in it: the table or a column
    /// is missing, or a column's type or nullability does not match the
    /// field. Reported by the schema verification of a database store.
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
    Backend(BackendError),

    /// A lock wait or a statement took longer than the store's limit
    /// (`StoreOptions::lock_timeout`, `StoreOptions::statement_timeout` in
    /// uow-sqlx). The statement was cancelled and nothing of the unit of work
    /// was committed; re-running it may succeed once the lock is free.
    Timeout {
        /// What uow was doing (`"commit"`, `"load from products"`, ...).
        operation: String,
        /// Which limit was reached.
        kind: TimeoutKind,
        /// The driver's error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// The connection failed after the commit may have reached the database,
    /// and the database could not be reached again to find out whether it
    /// was stored. The unit of work may or may not be stored: do not simply
    /// re-run it. Ask the store later with `Store::commit_outcome(unit_id)`
    /// (which also makes sure that a commit still in flight can no longer
    /// land) and re-run it only if that answers
    /// [`CommitOutcome::NotCommitted`](crate::CommitOutcome::NotCommitted).
    CommitOutcomeUnknown {
        /// The unit of work's id (`Repository::unit_id`).
        unit_id: String,
        /// The failure of the commit.
        source: BackendError,
    },

    /// `commit()` of a read-only unit of work (`begin_read_only`) that
    /// changed, added or removed aggregates (or recorded events): nothing
    /// was stored. Make the change in a unit of work begun with `begin`.
    ReadOnly {
        /// The unit of work's id.
        unit_id: String,
        /// How many writes it would have made.
        writes: usize,
    },

    /// A query's [`Cursor`](crate::Cursor) was not made by a query of this
    /// aggregate with the same ordering (or its text was changed).
    InvalidCursor {
        /// The aggregate's type name.
        aggregate: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

impl From<BackendError> for Error {
    fn from(error: BackendError) -> Self {
        Error::Backend(error)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Conflict {
                aggregate,
                id,
                expected,
            } => write!(
                f,
                "version conflict on {aggregate} `{id}`: expected version {expected}, but another unit of work changed or removed it since it was loaded; nothing was committed, retry the unit of work"
            ),
            Error::NotFound { aggregate, id } => write!(f, "{aggregate} `{id}` not found"),
            Error::Duplicate {
                aggregate,
                id,
                column,
            } => write!(
                f,
                "{aggregate} `{id}` cannot be added: its {column} is already taken by another {aggregate}; nothing was committed"
            ),
            Error::IdChanged { aggregate, id } => write!(
                f,
                "the id of {aggregate} `{id}` was changed after it was loaded; ids are identity, so remove it and add a new {aggregate} instead"
            ),
            Error::Decode {
                aggregate,
                table,
                column,
                id,
                reason,
            } => write!(
                f,
                "cannot decode {table}.{column} of {aggregate} `{id}`: {reason}"
            ),
            Error::Encode {
                aggregate,
                field,
                id,
                reason,
            } => write!(f, "cannot store {aggregate}.{field} of `{id}`: {reason}"),
            Error::Schema {
                table,
                column,
                problem,
            } => {
                write!(f, "table `{table}`")?;
                if let Some(column) = column {
                    write!(f, ", column `{column}`")?;
                }
                write!(
                    f,
                    ": {problem}; change the table (a migration) or the aggregate so they agree"
                )
            }
            // Transparent: the backend error says it all, and its source is
            // the driver's error.
            Error::Backend(e) => fmt::Display::fmt(e, f),
            Error::Timeout {
                operation, kind, ..
            } => write!(
                f,
                "{kind} during {operation}: the database cancelled the statement; nothing was committed, retry the unit of work"
            ),
            Error::CommitOutcomeUnknown { unit_id, .. } => write!(
                f,
                "the outcome of the commit of unit of work `{unit_id}` is unknown: the connection failed during the commit and the database could not be reached to check whether it was stored; ask the store for the outcome of `{unit_id}` before running it again"
            ),
            Error::ReadOnly { unit_id, writes } => write!(
                f,
                "unit of work `{unit_id}` was begun read-only and cannot commit its {writes} write(s); nothing was stored (begin it with `begin` to write)"
            ),
            Error::InvalidCursor { aggregate, reason } => write!(
                f,
                "the cursor given to a query of {aggregate} cannot be used: {reason}; start again from the first page"
            ),
        }
    }
}

/// Each message in the chain is printed once: a variant's own message does
/// not repeat its source's. [`Error::Backend`] is transparent (its source is
/// the driver's error); [`Error::Decode`] and [`Error::Encode`] print their
/// [`ValueError`] reason and give its cause (serde_json's error, the
/// driver's) as their source.
impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Decode { reason, .. } | Error::Encode { reason, .. } => {
                std::error::Error::source(reason)
            }
            Error::Backend(e) => std::error::Error::source(e),
            Error::Timeout { source, .. } => Some(&**source),
            Error::CommitOutcomeUnknown { source, .. } => Some(source),
            Error::Conflict { .. }
            | Error::NotFound { .. }
            | Error::Duplicate { .. }
            | Error::IdChanged { .. }
            | Error::Schema { .. }
            | Error::ReadOnly { .. }
            | Error::InvalidCursor { .. } => None,
        }
    }
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
            | Error::InvalidCursor { .. }
            | Error::ReadOnly { .. }
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
        // The driver's message is the source, not repeated here.
        write!(f, "database error during {}", self.operation)?;
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
    use crate::value::ValueErrorKind;
    use std::error::Error as _;

    /// What a reporter such as anyhow's `{:#}` prints: every message down
    /// the chain.
    fn chain(error: &(dyn std::error::Error + 'static)) -> String {
        std::iter::successors(Some(error), |e| (*e).source())
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(": ")
    }

    #[test]
    fn a_backend_error_prints_the_drivers_message_once_down_the_chain() {
        let driver = std::io::Error::other("connection reset by peer");
        let e = Error::from(BackendError::new("commit", driver).rolled_back());
        let text = chain(&e);
        assert_eq!(
            text.matches("connection reset by peer").count(),
            1,
            "{text}"
        );
        assert!(text.starts_with("database error during commit"), "{text}");
        assert!(text.contains("rolled back"), "{text}");
        let source = e.source().expect("the driver's error is the source");
        assert!(source.downcast_ref::<std::io::Error>().is_some());

        let unknown = Error::CommitOutcomeUnknown {
            unit_id: "u-1".into(),
            source: BackendError::new("commit", std::io::Error::other("broken pipe")),
        };
        let text = chain(&unknown);
        assert_eq!(text.matches("broken pipe").count(), 1, "{text}");
    }

    #[test]
    fn a_decode_error_keeps_its_typed_reason_and_the_json_error_as_source() {
        let reason = crate::value::from_json::<u32>(crate::backend::Value::Json("\"x\"".into()))
            .expect_err("a string is not a u32");
        assert_eq!(reason.kind(), ValueErrorKind::Json);
        let e = Error::Decode {
            aggregate: "Product",
            table: "products",
            column: "stock",
            id: "LAMP".into(),
            reason,
        };
        let source = e.source().expect("serde_json's error");
        assert!(source.downcast_ref::<serde_json::Error>().is_some());
        let text = chain(&e);
        assert_eq!(
            text.matches("does not fit the field's type").count(),
            1,
            "{text}"
        );
        assert_eq!(text.matches("invalid type").count(), 1, "{text}");
        match &e {
            Error::Decode { reason, .. } => assert_eq!(reason.kind(), ValueErrorKind::Json),
            other => panic!("{other:?}"),
        }
    }

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
