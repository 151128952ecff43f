//! Why a command failed.

use allocation_domain::{BatchRef, Sku};
use uow_core::Retryable;

/// Why a command failed. Nothing of it was committed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// No product has this SKU.
    #[error("invalid sku {0}")]
    UnknownSku(Sku),
    /// No batch has this reference.
    #[error("unknown batch {0}")]
    UnknownBatch(BatchRef),
    /// A batch with this reference exists already.
    #[error("batch {0} exists already")]
    DuplicateBatch(BatchRef),
    /// The product changed since the caller saw it (optimistic concurrency
    /// across requests).
    #[error(
        "product {sku} is at version {current}, not the version {expected} the change was made against; reload it and try again"
    )]
    StaleVersion {
        sku: Sku,
        expected: u64,
        current: u64,
    },
    /// Storage failed, or conflicts persisted after every attempt.
    #[error(transparent)]
    Store(#[from] uow_core::Error),
}

impl Retryable for ServiceError {
    fn is_retryable(&self) -> bool {
        matches!(self, ServiceError::Store(e) if e.is_conflict())
    }
}
