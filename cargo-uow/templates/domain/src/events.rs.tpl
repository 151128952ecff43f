//! What happens in the {{name}} domain.

use serde::{Deserialize, Serialize};

use crate::model::ItemId;

/// A domain event recorded by an aggregate, stored in the outbox with the
/// commit of its unit of work.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    /// An item was created.
    ItemCreated {
        /// The item.
        id: ItemId,
        /// Its name.
        name: String,
    },
    /// An item was renamed.
    ItemRenamed {
        /// The item.
        id: ItemId,
        /// Its new name.
        name: String,
    },
}
