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
    /// rejected. The unit of work was rolled back.
    #[error("{0}")]
    Backend(#[from] BackendError),
}

impl Error {
    /// `true` when re-running the whole unit of work may succeed: a version
    /// conflict, or contention the database reported as retryable. This is
    /// what [`retry`](crate::retry) retries on.
    pub fn is_conflict(&self) -> bool {
        match self {
            Error::Conflict { .. } => true,
            Error::Backend(e) => e.retryable,
            _ => false,
        }
    }
}

/// A failure of the database or driver underneath a store.
#[derive(Debug)]
pub struct BackendError {
    /// What uow was doing (`"commit"`, `"load products"`, ...).
    pub operation: String,
    /// Whether the database reported transient contention (serialization
    /// failure, deadlock, busy) that a retry of the unit of work may clear.
    pub retryable: bool,
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
            source: source.into(),
        }
    }

    /// Marks the failure as transient contention.
    pub fn retryable(mut self) -> Self {
        self.retryable = true;
        self
    }
}

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "database error during {}: {}; the unit of work was rolled back",
            self.operation, self.source
        )
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
        assert!(
            !Error::NotFound {
                aggregate: "Product",
                id: "x".into()
            }
            .is_conflict()
        );
    }
}
