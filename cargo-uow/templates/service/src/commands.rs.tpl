//! What the outside world asks of the service.

use uow_core::bus::Command;

use crate::errors::ServiceError;

/// Create an item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateItem {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
}

impl Command for CreateItem {
    type Output = ();
    type Error = ServiceError;
}

/// Rename an item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenameItem {
    /// The item.
    pub id: String,
    /// Its new name.
    pub name: String,
    /// The version the caller saw (an HTTP `If-Match`): the change applies
    /// only if nobody changed the item since. `None` applies it to whatever
    /// is stored now.
    pub expected_version: Option<u64>,
}

impl Command for RenameItem {
    /// The item's new version.
    type Output = u64;
    type Error = ServiceError;
}
