//! The example aggregate: an item with a name.

use std::fmt;

use serde::{Deserialize, Serialize};
use uow_core::{Aggregate, ColumnValue};

use crate::events::Event;

/// An item's id.
#[derive(
    ColumnValue, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct ItemId(pub String);

impl ItemId {
    /// From text.
    pub fn new(id: impl Into<String>) -> Self {
        ItemId(id.into())
    }
}

impl fmt::Display for ItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The example aggregate. Its version guards against two changes
/// overwriting each other; the HTTP API hands it out as the `ETag`.
#[derive(Aggregate, Clone, Debug)]
#[aggregate(table = "items")]
pub struct Item {
    /// Identity.
    #[aggregate(id)]
    pub id: ItemId,
    /// Owned by the framework: +1 on every commit that changes the item.
    #[aggregate(version)]
    pub version: u64,
    /// Its name; items are found by name (`find_by_name`).
    #[aggregate(find_by)]
    pub name: String,
    /// Events recorded since the item was loaded, drained on commit.
    #[aggregate(events)]
    pub events: Vec<Event>,
}

impl Item {
    /// A new item, recording [`Event::ItemCreated`].
    pub fn new(id: &str, name: &str) -> Self {
        Item {
            id: ItemId::new(id),
            version: 0,
            name: name.to_owned(),
            events: vec![Event::ItemCreated {
                id: ItemId::new(id),
                name: name.to_owned(),
            }],
        }
    }

    /// Renames the item, recording [`Event::ItemRenamed`].
    pub fn rename(&mut self, name: &str) {
        self.name = name.to_owned();
        self.events.push(Event::ItemRenamed {
            id: self.id.clone(),
            name: name.to_owned(),
        });
    }
}
