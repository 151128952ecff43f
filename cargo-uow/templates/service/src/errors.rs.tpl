//! Why a command failed.

use {{crate}}_domain::ItemId;
use uow_core::Retryable;

/// Why a command failed. Nothing of it was committed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// No item has this id.
    #[error("unknown item {0}")]
    UnknownItem(ItemId),
    /// An item with this id exists already.
    #[error("item {0} exists already")]
    DuplicateItem(ItemId),
    /// The item changed since the caller saw it.
    #[error("item {id} is at version {current}, not {expected}; reload it and try again")]
    StaleVersion {
        /// The item.
        id: ItemId,
        /// The version the caller saw.
        expected: u64,
        /// The version stored.
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
