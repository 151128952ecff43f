//! The interface a store implements: what a database store (such as
//! `uow-sqlx`'s `SqlxStore`) writes against, and what the in-memory store
//! implements too. Domain and service code does not need this module.
//!
//! A [`Store`](crate::Store) begins [`Transaction`]s; a transaction answers
//! [`Query`]s with rows (`Vec<`[`Value`]`>` in the column order of an
//! [`AggregateMeta`]) and commits a [`ChangeSet`]: per table, the inserts,
//! version-checked [`Update`]s and [`Delete`]s of one unit of work.
//! [`encode_row`] and [`decode_row`] convert between an aggregate and its
//! row; a row the store reads is handed to [`decode_row`] as a [`RowSource`].
//!
//! The values: [`Value`] and [`ColumnKind`] are what a column holds and how
//! it is declared; [`check_storable`] refuses, on every store alike, what
//! one of the databases could not store exactly; the decimal helpers and the
//! range constants describe the stored forms the database stores share.

pub use crate::aggregate::{
    AggregateMeta, ColumnMeta, ColumnRole, FieldError, RowSource, decode_row, encode_row,
};
pub use crate::children::{
    ChildChanges, ChildCollection, ChildEntity, ChildField, ChildLayout, ChildMeta, ChildReader,
    ChildRows, ChildTable, ChildWriter, PARENT_COLUMN, POSITION_COLUMN, ROOT_COLUMN,
    attach_children, attach_children_kept, encode_children,
};
pub use crate::memory::InMemoryTransaction;
pub use crate::query::{CompareOp, Filter, OrderTerm, Select};
pub use crate::store::{ChangeSet, Delete, Loaded, Query, TableChanges, Transaction, Update};
pub use crate::value::{
    ColumnKind, FIRST_DAY, FIRST_MICRO, LAST_DAY, LAST_MICRO, MAX_JSON_DEPTH, MAX_KEY_LEN, Value,
    check_storable, decimal_from_sort_key, decimal_sort_key, fixed_scale,
};

#[doc(hidden)]
pub use crate::outbox::now_micros;
