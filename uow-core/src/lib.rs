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
mod memory;
mod message_bus;
mod outbox;
mod repository;
mod retry;
mod store;
mod unit_of_work;
mod value;

pub use aggregate::{
    Aggregate, AggregateMeta, ColumnMeta, ColumnRole, Entity, FieldError, RowSource, decode_row,
    encode_row, id_text,
};
pub use error::{BackendError, Error, TimeoutKind};
pub use event::{AnyEvent, NoEvents};
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
pub use value::{ColumnKind, ColumnValue, Key, Value, ValueError, format_uuid, parse_uuid};

#[cfg(feature = "derive")]
pub use uow_derive::{Aggregate, ColumnValue, Entity, unit_of_work};

/// Paths used by the code the macros generate. Not a public API: it may
/// change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::outbox::outbox_records;
    pub use crate::unit_of_work::{UnitState, commit, commit_with_outbox};
    pub use core::convert::Into;
    pub use core::default::Default;
    pub use core::future::Future;
    pub use core::marker::Send;
    pub use core::option::Option;
    pub use core::result::Result;
    pub use std::boxed::Box;
    pub use std::string::String;
    pub use std::sync::Arc;
    pub use std::vec::Vec;

    use crate::aggregate::FieldError;
    use crate::value::{ColumnValue, Value, from_json, to_json};

    /// Encodes one field into its column.
    #[inline]
    pub fn encode<T: ColumnValue>(
        field: &T,
        column: usize,
        row: &mut Vec<Value>,
    ) -> Result<(), FieldError> {
        let value = field
            .to_value()
            .map_err(|error| FieldError { column, error })?;
        row.push(value);
        Ok(())
    }

    /// Encodes one `#[aggregate(json)]` field into its column.
    #[inline]
    pub fn encode_json<T: serde::Serialize>(
        field: &T,
        column: usize,
        row: &mut Vec<Value>,
    ) -> Result<(), FieldError> {
        let value = to_json(field).map_err(|error| FieldError { column, error })?;
        row.push(value);
        Ok(())
    }

    /// Encodes the version field.
    #[inline]
    pub fn encode_version(
        version: u64,
        column: usize,
        row: &mut Vec<Value>,
    ) -> Result<(), FieldError> {
        encode(&version, column, row)
    }

    /// Decodes one field from its column.
    #[inline]
    pub fn decode<T: ColumnValue, R: crate::RowSource + ?Sized>(
        row: &R,
        column: usize,
    ) -> Result<T, FieldError> {
        row.get(column)
            .and_then(T::from_value)
            .map_err(|error| FieldError { column, error })
    }

    /// Decodes one `#[aggregate(json)]` field from its column.
    #[inline]
    pub fn decode_json<T: serde::de::DeserializeOwned, R: crate::RowSource + ?Sized>(
        row: &R,
        column: usize,
    ) -> Result<T, FieldError> {
        row.get(column)
            .and_then(from_json)
            .map_err(|error| FieldError { column, error })
    }

    /// Takes the events out of an `#[aggregate(events)]` field.
    #[inline]
    pub fn take_events<E>(events: &mut Vec<E>) -> Vec<E> {
        core::mem::take(events)
    }

    /// The storage kind of a field type; spans errors at the field's type.
    pub const fn kind_of<T: ColumnValue>() -> crate::ColumnKind {
        T::KIND
    }

    /// Whether a field type is nullable.
    pub const fn nullable<T: ColumnValue>() -> bool {
        T::NULLABLE
    }

    /// The storage kind of an aggregate's id.
    pub const fn id_kind<A: crate::Aggregate>() -> crate::ColumnKind {
        kind_of::<<A as crate::Entity>::Id>()
    }

    /// Whether an aggregate's id is nullable.
    pub const fn id_nullable<A: crate::Aggregate>() -> bool {
        nullable::<<A as crate::Entity>::Id>()
    }

    /// Selects, by autoref, how a plain column of type `T` is encoded and
    /// decoded: `(&&Column::<T>::NEW).__uow_encode(..)` is [`MappedColumn`]
    /// when `T: ColumnValue`, and otherwise [`UnmappedColumn`], a stand-in
    /// that is never run — the missing `ColumnValue` is reported once, at the
    /// field's type in `META`, instead of once per generated body.
    pub struct Column<T>(core::marker::PhantomData<fn() -> T>);

    impl<T> Column<T> {
        /// The selector.
        pub const NEW: Self = Column(core::marker::PhantomData);
    }

    /// The conversion of a column whose type implements `ColumnValue`.
    pub trait MappedColumn<T> {
        /// Encodes the field into its column.
        fn __uow_encode(
            &self,
            field: &T,
            column: usize,
            row: &mut Vec<Value>,
        ) -> Result<(), FieldError>;
        /// Decodes the field from its column.
        fn __uow_decode<R: crate::RowSource + ?Sized>(
            &self,
            row: &R,
            column: usize,
        ) -> Result<T, FieldError>;
    }

    impl<T: ColumnValue> MappedColumn<T> for &Column<T> {
        #[inline]
        fn __uow_encode(
            &self,
            field: &T,
            column: usize,
            row: &mut Vec<Value>,
        ) -> Result<(), FieldError> {
            encode(field, column, row)
        }

        #[inline]
        fn __uow_decode<R: crate::RowSource + ?Sized>(
            &self,
            row: &R,
            column: usize,
        ) -> Result<T, FieldError> {
            decode(row, column)
        }
    }

    /// The stand-in for a column whose type has no `ColumnValue` (a compile
    /// error is reported for it elsewhere; this is never run).
    pub trait UnmappedColumn<T> {
        /// Never run.
        fn __uow_encode(
            &self,
            field: &T,
            column: usize,
            row: &mut Vec<Value>,
        ) -> Result<(), FieldError>;
        /// Never run.
        fn __uow_decode<R: crate::RowSource + ?Sized>(
            &self,
            row: &R,
            column: usize,
        ) -> Result<T, FieldError>;
    }

    impl<T> UnmappedColumn<T> for Column<T> {
        fn __uow_encode(&self, _: &T, _: usize, _: &mut Vec<Value>) -> Result<(), FieldError> {
            unimplemented!("the derive reported an error")
        }

        fn __uow_decode<R: crate::RowSource + ?Sized>(
            &self,
            _: &R,
            _: usize,
        ) -> Result<T, FieldError> {
            unimplemented!("the derive reported an error")
        }
    }

    /// Checks at compile time that an `#[aggregate(json)]` field's type is
    /// serde-serializable.
    pub fn assert_json<T: serde::Serialize + serde::de::DeserializeOwned>() {}

    /// Chooses, by autoref specialisation, how an aggregate's events become
    /// the unit of work's declared event type `E`: aggregates that record no
    /// events ([`NoEvents`](crate::NoEvents)) contribute none; others convert
    /// with `Into<E>`.
    ///
    /// The generated code calls
    /// `(&&EventConversion::<AggregateEvent, E>::new()).converter()`.
    pub struct EventConversion<T, E>(core::marker::PhantomData<fn(T) -> E>);

    impl<T, E> EventConversion<T, E> {
        /// The selector.
        pub const fn new() -> Self {
            EventConversion(core::marker::PhantomData)
        }
    }

    impl<T, E> Default for EventConversion<T, E> {
        fn default() -> Self {
            Self::new()
        }
    }

    /// Picked for aggregates without events.
    pub trait ConvertNoEvents<E> {
        /// The conversion (never called: `NoEvents` has no values).
        fn converter(&self) -> fn(crate::NoEvents) -> E {
            |event| match event {}
        }
    }

    impl<E> ConvertNoEvents<E> for &&EventConversion<crate::NoEvents, E> {}

    /// Picked for aggregates whose events convert into `E`.
    pub trait ConvertInto<T, E> {
        /// The conversion.
        fn converter(&self) -> fn(T) -> E;
    }

    impl<T: Into<E>, E> ConvertInto<T, E> for &EventConversion<T, E> {
        fn converter(&self) -> fn(T) -> E {
            Into::into
        }
    }
}
