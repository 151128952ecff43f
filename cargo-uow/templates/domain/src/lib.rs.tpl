//! The {{name}} domain. The crate knows nothing of storage: its only
//! framework dependency is `uow-core`, whose derives turn plain structs into
//! aggregates (identity, version, repository port).

mod events;
mod model;
// cargo-uow: modules

pub use events::Event;
pub use model::{Item, ItemId, ItemRepository};
// cargo-uow: exports
