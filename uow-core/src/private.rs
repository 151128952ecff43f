//! The runtime of the code the macros generate (`uow_core::__private`).
//! Not a public API: it may change in any release.
//!
//! Nothing here may surface in a diagnostic: a bound the user's code can
//! fail is written in generated code as a trait-qualified path to a public
//! trait (`<T as uow_core::ColumnValue>::KIND`), never as a call to a function
//! of this module, whose path rustc would print.

pub use crate::outbox::outbox_records;
pub use crate::unit_of_work::{UnitState, commit, commit_with_outbox};
pub use core::convert::Into;
pub use core::default::Default;
pub use core::future::Future;
pub use core::marker::Send;
pub use core::mem::replace;
pub use core::option::Option;
pub use core::result::Result;
pub use std::boxed::Box;
pub use std::string::String;
pub use std::sync::Arc;
pub use std::vec::Vec;

use crate::aggregate::{Aggregate, FieldError};
use crate::error::Error;
use crate::repository::Repository;
use crate::store::Store;
use crate::value::Key;
use crate::value::{ColumnValue, Value, from_json, to_json};
use crate::version::VersionNumber;
use core::marker::PhantomData;

/// The text stored for an enum deriving `ColumnValue`.
pub fn variant_text(type_name: &str, value: Value) -> Result<String, crate::ValueError> {
    match value {
        Value::Text(text) => Ok(text),
        other => Err(crate::ValueError::unexpected(
            &format!("the text of a `{type_name}` variant"),
            &other,
        )),
    }
}

/// A stored text that names no variant of an enum deriving `ColumnValue`.
pub fn unknown_variant(type_name: &str, found: &str, expected: &[&str]) -> crate::ValueError {
    let expected = expected
        .iter()
        .map(|name| format!("\"{name}\""))
        .collect::<Vec<_>>()
        .join(", ");
    crate::ValueError::with_kind(
        crate::ValueErrorKind::Malformed,
        format!("\"{found}\" is not a variant of `{type_name}`; expected one of {expected}"),
    )
}

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
pub fn encode_version(version: u64, column: usize, row: &mut Vec<Value>) -> Result<(), FieldError> {
    encode(&version, column, row)
}

/// Decodes one field from its column.
#[inline]
pub fn decode<T: ColumnValue, R: crate::backend::RowSource + ?Sized>(
    row: &R,
    column: usize,
) -> Result<T, FieldError> {
    row.get(column)
        .and_then(T::from_value)
        .map_err(|error| FieldError { column, error })
}

/// Decodes one `#[aggregate(json)]` field from its column.
#[inline]
pub fn decode_json<T: serde::de::DeserializeOwned, R: crate::backend::RowSource + ?Sized>(
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
pub const fn kind_of<T: ColumnValue>() -> crate::backend::ColumnKind {
    T::KIND
}

/// The kind of a `#[aggregate(decimal(precision = P, scale = S))]`
/// field: the field's kind must be [`ColumnKind::Decimal`]
/// (`rust_decimal::Decimal` or an `Option` of one), `precision` 1 to 28
/// (every value then fits a `Decimal`) and `scale` at most `precision`.
/// Evaluated in the `META` constant, so a mistake is a compile error.
///
/// [`ColumnKind::Decimal`]: crate::backend::ColumnKind::Decimal
pub const fn fixed_decimal(
    kind: crate::backend::ColumnKind,
    precision: u32,
    scale: u32,
) -> crate::backend::ColumnKind {
    if !matches!(kind, crate::backend::ColumnKind::Decimal) {
        panic!(
            "`decimal(precision = .., scale = ..)` is for a `rust_decimal::Decimal` field (or an `Option` of one)"
        );
    }
    if precision == 0 || precision > 28 {
        panic!("the `precision` of `decimal(..)` is 1 to 28: the digits a Decimal holds");
    }
    if scale > precision {
        panic!("the `scale` of `decimal(..)` is at most its `precision`");
    }
    crate::backend::ColumnKind::FixedDecimal {
        precision: precision as u8,
        scale: scale as u8,
    }
}

/// Selects, by autoref, how a `children` field of child type `C` is
/// written and read: [`MappedChildren`] when `C: ChildEntity`, otherwise
/// [`UnmappedChildren`], never run (the missing impl is reported once, at
/// the field's type in `META`).
pub struct Children<C>(PhantomData<fn() -> C>);

impl<C> Children<C> {
    /// The selector.
    pub const NEW: Self = Children(PhantomData);
}

/// The glue of a `children` field whose type is a child entity.
pub trait MappedChildren<C> {
    /// Writes the field's children.
    fn write_field<F: crate::backend::ChildCollection<C>>(
        &self,
        writer: &mut crate::backend::ChildWriter<'_>,
        field: usize,
        children: &F,
    ) -> Result<(), Error>;
    /// Reads the field's children.
    fn read_field<F: crate::backend::ChildCollection<C>>(
        &self,
        reader: &mut crate::backend::ChildReader<'_>,
        field: usize,
    ) -> Result<F, Error>;
}

impl<C: crate::backend::ChildEntity> MappedChildren<C> for &Children<C> {
    #[inline]
    fn write_field<F: crate::backend::ChildCollection<C>>(
        &self,
        writer: &mut crate::backend::ChildWriter<'_>,
        field: usize,
        children: &F,
    ) -> Result<(), Error> {
        writer.field::<C, F>(field, children)
    }

    #[inline]
    fn read_field<F: crate::backend::ChildCollection<C>>(
        &self,
        reader: &mut crate::backend::ChildReader<'_>,
        field: usize,
    ) -> Result<F, Error> {
        reader.field::<C, F>(field)
    }
}

/// The stand-in for a `children` field of a type that is no child entity
/// (reported elsewhere; never run).
pub trait UnmappedChildren<C> {
    /// Never run.
    fn write_field<F>(
        &self,
        writer: &mut crate::backend::ChildWriter<'_>,
        field: usize,
        children: &F,
    ) -> Result<(), Error>;
    /// Never run.
    fn read_field<F>(
        &self,
        reader: &mut crate::backend::ChildReader<'_>,
        field: usize,
    ) -> Result<F, Error>;
}

impl<C> UnmappedChildren<C> for Children<C> {
    fn write_field<F>(
        &self,
        _: &mut crate::backend::ChildWriter<'_>,
        _: usize,
        _: &F,
    ) -> Result<(), Error> {
        unimplemented!("the derive reported an error")
    }

    fn read_field<F>(&self, _: &mut crate::backend::ChildReader<'_>, _: usize) -> Result<F, Error> {
        unimplemented!("the derive reported an error")
    }
}

/// Whether `name` is one of the key columns every child row has
/// (`root_id`, `parent_id`, `position`), which a child's own column cannot
/// be named.
pub const fn is_child_key_column(name: &str) -> bool {
    same_table(name, crate::backend::ROOT_COLUMN)
        || same_table(name, crate::backend::PARENT_COLUMN)
        || same_table(name, crate::backend::POSITION_COLUMN)
}

/// Whether a field type is nullable.
pub const fn nullable<T: ColumnValue>() -> bool {
    T::NULLABLE
}

/// The storage kind of an aggregate's id.
pub const fn id_kind<A: crate::Aggregate>() -> crate::backend::ColumnKind {
    kind_of::<<A as crate::Entity>::Id>()
}

/// Whether an aggregate's id is nullable.
pub const fn id_nullable<A: crate::Aggregate>() -> bool {
    nullable::<<A as crate::Entity>::Id>()
}

/// Selects, by autoref, how a plain column of type `T` is encoded and
/// decoded: `(&&Column::<T>::NEW).encode_column(..)` is [`MappedColumn`]
/// when `T: ColumnValue`, and otherwise [`UnmappedColumn`], a stand-in
/// that is never run — the missing `ColumnValue` is reported once, at the
/// field's type in `META`, instead of once per generated body.
pub struct Column<T>(PhantomData<fn() -> T>);

impl<T> Column<T> {
    /// The selector.
    pub const NEW: Self = Column(PhantomData);
}

/// The conversion of a column whose type implements `ColumnValue`.
pub trait MappedColumn<T> {
    /// Encodes the field into its column.
    fn encode_column(
        &self,
        field: &T,
        column: usize,
        row: &mut Vec<Value>,
    ) -> Result<(), FieldError>;
    /// Whether the field encodes to `stored` ([`ColumnValue::same_as`]).
    fn same_column(&self, field: &T, stored: &Value) -> bool;
    /// The field's value for its column `column`.
    fn column_value(&self, field: &T, column: usize) -> Result<Value, FieldError>;
    /// Decodes the field from its column.
    fn decode_column<R: crate::backend::RowSource + ?Sized>(
        &self,
        row: &R,
        column: usize,
    ) -> Result<T, FieldError>;
}

impl<T: ColumnValue> MappedColumn<T> for &Column<T> {
    #[inline]
    fn encode_column(
        &self,
        field: &T,
        column: usize,
        row: &mut Vec<Value>,
    ) -> Result<(), FieldError> {
        encode(field, column, row)
    }

    #[inline]
    fn same_column(&self, field: &T, stored: &Value) -> bool {
        field.same_as(stored)
    }

    #[inline]
    fn column_value(&self, field: &T, column: usize) -> Result<Value, FieldError> {
        field
            .to_value()
            .map_err(|error| FieldError { column, error })
    }

    #[inline]
    fn decode_column<R: crate::backend::RowSource + ?Sized>(
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
    fn encode_column(
        &self,
        field: &T,
        column: usize,
        row: &mut Vec<Value>,
    ) -> Result<(), FieldError>;
    /// Never run.
    fn same_column(&self, field: &T, stored: &Value) -> bool;
    /// Never run.
    fn column_value(&self, field: &T, column: usize) -> Result<Value, FieldError>;
    /// Never run.
    fn decode_column<R: crate::backend::RowSource + ?Sized>(
        &self,
        row: &R,
        column: usize,
    ) -> Result<T, FieldError>;
}

impl<T> UnmappedColumn<T> for Column<T> {
    fn encode_column(&self, _: &T, _: usize, _: &mut Vec<Value>) -> Result<(), FieldError> {
        unimplemented!("the derive reported an error")
    }

    fn same_column(&self, _: &T, _: &Value) -> bool {
        unimplemented!("the derive reported an error")
    }

    fn column_value(&self, _: &T, _: usize) -> Result<Value, FieldError> {
        unimplemented!("the derive reported an error")
    }

    fn decode_column<R: crate::backend::RowSource + ?Sized>(
        &self,
        _: &R,
        _: usize,
    ) -> Result<T, FieldError> {
        unimplemented!("the derive reported an error")
    }
}

/// The same selection for an `#[aggregate(json)]` field:
/// `(&&Json::<T>::NEW).encode_json_column(..)` is [`MappedJson`] when `T`
/// is serde-serializable both ways, otherwise [`UnmappedJson`], never run
/// (a missing impl is reported once, in `META`, through serde's traits).
pub struct Json<T>(PhantomData<fn() -> T>);

impl<T> Json<T> {
    /// The selector.
    pub const NEW: Self = Json(PhantomData);
}

/// The conversion of a JSON column whose type serde can read and write.
pub trait MappedJson<T> {
    /// Encodes the field into its column.
    fn encode_json_column(
        &self,
        field: &T,
        column: usize,
        row: &mut Vec<Value>,
    ) -> Result<(), FieldError>;
    /// Whether the field encodes to `stored` (serialized and compared: a
    /// document has no cheaper exact comparison).
    fn same_json_column(&self, field: &T, stored: &Value) -> bool;
    /// The field's document for its column `column`.
    fn json_column_value(&self, field: &T, column: usize) -> Result<Value, FieldError>;
    /// Decodes the field from its column.
    fn decode_json_column<R: crate::backend::RowSource + ?Sized>(
        &self,
        row: &R,
        column: usize,
    ) -> Result<T, FieldError>;
}

impl<T: serde::Serialize + serde::de::DeserializeOwned> MappedJson<T> for &Json<T> {
    #[inline]
    fn encode_json_column(
        &self,
        field: &T,
        column: usize,
        row: &mut Vec<Value>,
    ) -> Result<(), FieldError> {
        encode_json(field, column, row)
    }

    #[inline]
    fn same_json_column(&self, field: &T, stored: &Value) -> bool {
        to_json(field).is_ok_and(|value| value == *stored)
    }

    #[inline]
    fn json_column_value(&self, field: &T, column: usize) -> Result<Value, FieldError> {
        to_json(field).map_err(|error| FieldError { column, error })
    }

    #[inline]
    fn decode_json_column<R: crate::backend::RowSource + ?Sized>(
        &self,
        row: &R,
        column: usize,
    ) -> Result<T, FieldError> {
        decode_json(row, column)
    }
}

/// The stand-in for a JSON column whose type serde cannot handle (reported
/// elsewhere; never run).
pub trait UnmappedJson<T> {
    /// Never run.
    fn encode_json_column(
        &self,
        field: &T,
        column: usize,
        row: &mut Vec<Value>,
    ) -> Result<(), FieldError>;
    /// Never run.
    fn same_json_column(&self, field: &T, stored: &Value) -> bool;
    /// Never run.
    fn json_column_value(&self, field: &T, column: usize) -> Result<Value, FieldError>;
    /// Never run.
    fn decode_json_column<R: crate::backend::RowSource + ?Sized>(
        &self,
        row: &R,
        column: usize,
    ) -> Result<T, FieldError>;
}

impl<T> UnmappedJson<T> for Json<T> {
    fn encode_json_column(&self, _: &T, _: usize, _: &mut Vec<Value>) -> Result<(), FieldError> {
        unimplemented!("the derive reported an error")
    }

    fn same_json_column(&self, _: &T, _: &Value) -> bool {
        unimplemented!("the derive reported an error")
    }

    fn json_column_value(&self, _: &T, _: usize) -> Result<Value, FieldError> {
        unimplemented!("the derive reported an error")
    }

    fn decode_json_column<R: crate::backend::RowSource + ?Sized>(
        &self,
        _: &R,
        _: usize,
    ) -> Result<T, FieldError> {
        unimplemented!("the derive reported an error")
    }
}

pub use serde;
/// A serializer to name in the compile-time check of a JSON field.
pub type JsonSerializer = serde_json::value::Serializer;
/// A deserializer to name in the compile-time check of a JSON field.
pub type JsonDeserializer = serde_json::Value;

/// The same selection for the version field:
/// `(&&Version::<T>::NEW).to_version(..)` is [`MappedVersion`] when
/// `T: VersionNumber` (reported otherwise once, in `META`).
pub struct Version<T>(PhantomData<fn() -> T>);

impl<T> Version<T> {
    /// The selector.
    pub const NEW: Self = Version(PhantomData);
}

/// The conversions of a version field of a [`VersionNumber`] type.
pub trait MappedVersion<T> {
    /// The field's value as the framework counts.
    fn to_version(&self, field: &T) -> u64;
    /// The framework's count as the field's type.
    fn version_as(&self, version: u64) -> T;
}

impl<T: VersionNumber> MappedVersion<T> for &Version<T> {
    #[inline]
    fn to_version(&self, field: &T) -> u64 {
        field.to_version()
    }

    #[inline]
    fn version_as(&self, version: u64) -> T {
        T::from_version(version)
    }
}

/// The stand-in for a version field of another type (reported elsewhere;
/// never run).
pub trait UnmappedVersion<T> {
    /// Never run.
    fn to_version(&self, field: &T) -> u64;
    /// Never run.
    fn version_as(&self, version: u64) -> T;
}

impl<T> UnmappedVersion<T> for Version<T> {
    fn to_version(&self, _: &T) -> u64 {
        unimplemented!("the derive reported an error")
    }

    fn version_as(&self, _: u64) -> T {
        unimplemented!("the derive reported an error")
    }
}

/// Chooses, by autoref specialisation, how an aggregate's events become
/// the unit of work's declared event type `E`: aggregates that record no
/// events ([`NoEvents`](crate::NoEvents)) contribute none; others convert
/// with `Into<E>`.
///
/// The generated code calls
/// `(&&EventConversion::<AggregateEvent, E>::new()).converter()`.
pub struct EventConversion<T, E>(PhantomData<fn(T) -> E>);

impl<T, E> EventConversion<T, E> {
    /// The selector.
    pub const fn new() -> Self {
        EventConversion(PhantomData)
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

/// The aggregates whose column `column` equals `key`: the body of a
/// generated `find_by_<field>`. A free function, so that no method of
/// `Repository` can hide a generated finder of the same name.
#[inline]
pub fn find_by_column<'r, A: Aggregate, S: Store, K: Key + Sync + ?Sized>(
    repository: &'r mut Repository<A, S>,
    column: usize,
    key: &K,
) -> impl Future<Output = Result<Vec<&'r mut A>, Error>> + Send {
    repository.lookup_column(column, key)
}

/// The aggregate whose unique column `column` equals `key`: the body of a
/// generated `get_by_<field>`.
#[inline]
pub fn get_by_column<'r, A: Aggregate, S: Store, K: Key + Sync + ?Sized>(
    repository: &'r mut Repository<A, S>,
    column: usize,
    key: &K,
) -> impl Future<Output = Result<Option<&'r mut A>, Error>> + Send {
    repository.lookup_unique(column, key)
}

/// The aggregates holding a child `C` whose column `column` equals `key`:
/// the body of a generated `find_by_<child>_<field>`.
#[inline]
pub fn find_by_child_column<
    'r,
    A: Aggregate,
    S: Store,
    C: crate::backend::ChildEntity,
    K: Key + Sync + ?Sized,
>(
    repository: &'r mut Repository<A, S>,
    column: usize,
    key: &K,
) -> impl Future<Output = Result<Vec<&'r mut A>, Error>> + Send {
    repository.lookup_child::<C, K>(column, key)
}

/// The aggregate holding a child `C` whose unique column `column` equals
/// `key`: the body of a generated `get_by_<child>_<field>`.
#[inline]
pub async fn get_by_child_column<
    'r,
    A: Aggregate,
    S: Store,
    C: crate::backend::ChildEntity,
    K: Key + Sync + ?Sized,
>(
    repository: &'r mut Repository<A, S>,
    column: usize,
    key: &K,
) -> Result<Option<&'r mut A>, Error> {
    Ok(repository
        .lookup_child::<C, K>(column, key)
        .await?
        .into_iter()
        .next())
}

/// Whether two table names are the same (for the compile-time check that
/// no two repositories of a unit of work share a table).
pub const fn same_table(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if !a[i].eq_ignore_ascii_case(&b[i]) {
            return false;
        }
        i += 1;
    }
    true
}
pub use crate::query::{Json as JsonValue, field};
