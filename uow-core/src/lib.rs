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
//!
//! # Modules
//!
//! The crate root holds what a domain or service author uses: the traits
//! and derives ([`Aggregate`], [`Entity`], [`ColumnValue`], [`Key`],
//! [`VersionNumber`]), [`unit_of_work`] and [`UnitOfWork`], [`Repository`],
//! [`Store`], the [`InMemoryStore`] and the [`InterleavingStore`], the events vocabulary ([`NoEvents`],
//! [`AnyEvent`]), the [`Error`] with its reasons ([`BackendError`],
//! [`ValueError`], [`ValueErrorKind`], [`TimeoutKind`]), retrying ([`retry`], [`retry_with`],
//! [`RetryPolicy`], [`Retryable`]) and a commit's outcome ([`UnitId`],
//! [`CommitOutcome`]). The rest is in modules by audience:
//!
//! | module | for | holds |
//! |---|---|---|
//! | [`bus`] | service authors using a message bus | [`MessageBus`](bus::MessageBus), [`Command`](bus::Command), [`BusError`](bus::BusError), [`DispatchReport`](bus::DispatchReport) |
//! | [`outbox`] | services publishing their events | [`Relay`](outbox::Relay), [`Publisher`](outbox::Publisher), [`OutboxStore`](outbox::OutboxStore), the records and reports |
//! | [`query`] | service authors querying repositories | [`Field`](query::Field), [`Condition`](query::Condition), [`Order`](query::Order), [`QueryBuilder`](query::QueryBuilder), [`Cursor`], [`Page`]; for stores the [`Filter`](query::Filter) and [`Select`](query::Select) they evaluate |
//! | [`interleaving`] | tests of services under concurrency | [`InterleavingStore`] (also at the root), the schedule it ran ([`Step`](interleaving::Step), [`Operation`](interleaving::Operation)) |
//! | [`backend`] | store implementors | [`Transaction`](backend::Transaction), [`ChangeSet`](backend::ChangeSet), [`Query`](backend::Query), [`Value`](backend::Value), [`AggregateMeta`](backend::AggregateMeta), row encoding |
//!
//! # Feature flags
//!
//! - `derive` (default): the derive macros and `#[unit_of_work]`.
//! - `uuid`, `chrono`, `time`, `decimal`: [`ColumnValue`] for those crates'
//!   types.
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod aggregate;
pub mod backend;
pub mod bus;
mod error;
mod event;
pub mod interleaving;
mod memory;
pub mod outbox;
pub mod query;
mod repository;
mod retry;
mod store;
mod unit_of_work;
mod value;
mod version;

pub use aggregate::{Aggregate, Entity};
pub use error::{BackendError, Error, TimeoutKind};
pub use event::{AnyEvent, NoEvents};
pub use interleaving::InterleavingStore;
pub use memory::InMemoryStore;
pub use query::{Cursor, Page, Queryable};
pub use repository::Repository;
pub use retry::{RetryPolicy, Retryable, retry, retry_with};
pub use store::Store;
pub use unit_of_work::{CommitOutcome, UnitId, UnitOfWork};
pub use value::{ColumnValue, Key, ValueError, ValueErrorKind};
pub use version::VersionNumber;

#[cfg(feature = "derive")]
#[cfg_attr(docsrs, doc(cfg(feature = "derive")))]
pub use uow_derive::{Aggregate, ColumnValue, Entity, unit_of_work};

/// The runtime of the code the macros generate. Not a public API: it may
/// change in any release.
#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;
