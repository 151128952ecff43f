//! # uow-core
//!
//! Units of work, repositories and version-based optimistic concurrency for
//! plain Rust domain structs — the part of uow that a domain crate depends on.
//! It has no database driver and no async runtime among its dependencies.
//!
//! A domain type derives [`Aggregate`]; a struct whose fields name aggregates
//! becomes a unit of work with [`unit_of_work`]; service code is generic over
//! [`Store`], so its tests run on the [`InMemoryStore`] and production runs on
//! a database store from `uow-sqlx`.
//!
//! ```
//! use uow_core::{Aggregate, ColumnValue, InMemoryStore, unit_of_work};
//!
//! #[derive(ColumnValue, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
//! pub struct Sku(String);
//!
//! #[derive(Aggregate, Debug)]
//! #[aggregate(table = "products")]
//! pub struct Product {
//!     #[aggregate(id)]
//!     pub sku: Sku,
//!     #[aggregate(version)]
//!     pub version: u64,
//!     pub description: String,
//! }
//!
//! #[unit_of_work]
//! pub struct Catalogue {
//!     pub products: Product,
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let store = InMemoryStore::new();
//!
//! let mut uow = Catalogue::begin(&store).await?;
//! uow.products.add(Product { sku: Sku("LAMP".into()), version: 0, description: "A lamp".into() })?;
//! uow.commit().await?;
//!
//! let mut uow = Catalogue::begin(&store).await?;
//! let lamp = uow.products.get(&Sku("LAMP".into())).await?.expect("stored");
//! assert_eq!(lamp.version, 1);
//! lamp.description = "A brass lamp".into();
//! uow.commit().await?;                       // version-checked UPDATE, version 2
//! # Ok::<(), uow_core::Error>(())
//! # }).unwrap();
//! ```
#![warn(missing_docs)]

mod aggregate;
mod error;
mod event;
mod interleaving;
mod memory;
mod message_bus;
mod outbox;
mod repository;
mod retry;
mod store;
mod unit_of_work;
mod value;
mod version;

pub use aggregate::{
    Aggregate, AggregateMeta, ColumnMeta, ColumnRole, Entity, FieldError, RowSource, decode_row,
    encode_row, id_text,
};
pub use error::{BackendError, Error, TimeoutKind};
pub use event::{AnyEvent, NoEvents};
pub use interleaving::{Interleaving, InterleavingStore, InterleavingTransaction, Operation, Step};
pub use memory::{InMemoryClaim, InMemoryStore, InMemoryTransaction};
pub use message_bus::{BusError, Command, HandlerFailure, MessageBus, Report};
pub use outbox::{
    Backoff, DeadMessage, EventSource, OutboxClaim, OutboxMessage, OutboxRecord, OutboxStore,
    Publisher, Relay, RelayReport, new_event_id, now_micros,
};
pub use repository::Repository;
pub use retry::{RetryPolicy, Retryable, retry, retry_with};
pub use store::{ChangeSet, Delete, Query, Store, TableChanges, Transaction, Update};
pub use unit_of_work::{CommitOutcome, UnitId, UnitOfWork};
pub use value::{
    ColumnKind, ColumnValue, FIRST_DAY, FIRST_MICRO, Key, LAST_DAY, LAST_MICRO, MAX_JSON_DEPTH,
    MAX_KEY_LEN, Value, ValueError, check_storable, decimal_from_sort_key, decimal_sort_key,
    fixed_scale,
};
pub use version::VersionNumber;

#[cfg(feature = "derive")]
pub use uow_derive::{Aggregate, ColumnValue, Entity, unit_of_work};

/// The runtime of the code the macros generate. Not a public API: it may
/// change in any release.
#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;
