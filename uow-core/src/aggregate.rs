//! What `#[derive(Aggregate)]` and `#[derive(Entity)]` implement: identity,
//! the version, backend-neutral metadata, and the encoding of one aggregate
//! to and from a row of [`Value`]s.

use std::fmt::Debug;

use crate::children::{ChildField, ChildReader, ChildWriter};
use crate::error::Error;
use crate::value::{ColumnKind, ColumnValue, Value, ValueError, check_storable};

/// Something with an identity that outlives changes to its attributes.
///
/// Two entities are the same entity when their ids are equal, whatever their
/// other fields say. `#[derive(Entity)]` implements it for child entities held
/// inside an aggregate; `#[derive(Aggregate)]` implements it for the aggregate
/// root. With `#[entity(eq_by_id)]` / `#[aggregate(eq_by_id)]` the derive also
/// implements `PartialEq`, `Eq` and `Hash` by id.
pub trait Entity {
    /// The identity type: usually a newtype value object (`Sku`, `OrderId`).
    type Id: Clone + Ord + Debug + Send + Sync + 'static;

    /// The identity.
    fn id(&self) -> &Self::Id;

    /// `true` when `other` is the same entity (equal ids).
    fn same_identity_as(&self, other: &Self) -> bool {
        self.id() == other.id()
    }
}

/// An aggregate root: the unit that a repository loads and stores whole, and
/// that is versioned for optimistic concurrency.
///
/// Implemented by `#[derive(Aggregate)]`; the methods are what stores and the
/// unit of work need and are not meant to be called by domain code.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an aggregate",
    label = "a unit of work holds repositories of aggregates only",
    note = "add `#[derive(Aggregate)]` to `{Self}`, with an `#[aggregate(id)]` and an `#[aggregate(version)]` field"
)]
pub trait Aggregate: Entity<Id: ColumnValue> + Sized + Send + Sync + 'static {
    /// The domain events this aggregate records (`uow_core::NoEvents` when it
    /// has no `#[aggregate(events)]` field).
    type Event: Send + 'static;

    /// Table, columns, id, version and finders.
    const META: &'static AggregateMeta;

    /// The version last loaded or committed (0 before the first commit).
    fn version(&self) -> u64;

    /// Sets the version; only the unit of work calls this.
    fn set_version(&mut self, version: u64);

    /// Pushes one value per column of [`META.columns`](AggregateMeta::columns),
    /// in order.
    fn encode(&self, row: &mut Vec<Value>) -> Result<(), FieldError>;

    /// Whether [`encode`](Self::encode) would push values equal to `stored`
    /// in every column but the version's: the dirty check of a commit, for
    /// an aggregate loaded and possibly unchanged. `true` only when it
    /// certainly would (the unit of work then writes nothing for the root's
    /// row); `false` when a column differs or may differ, and the aggregate
    /// is then encoded and compared in full. The default says `false`; the
    /// derive compares field by field, without allocating for text, bytes
    /// and the derived value objects.
    fn same_row(&self, stored: &[Value]) -> bool {
        let _ = stored;
        false
    }

    /// Brings `row`, this aggregate's stored row at load, up to date: each
    /// column but the version's whose value differs is replaced by the
    /// field's (not yet at its column's scale, as
    /// [`encode`](Self::encode) gives it), and the value it held is pushed
    /// onto `replaced` with its index. `row` holds one value per column.
    /// What a commit does with the row of a changed aggregate: the
    /// unchanged text of the row is not copied again. The default encodes
    /// the whole aggregate and compares; the derive compares field by field
    /// and converts only the fields that changed.
    fn refresh_row(
        &self,
        row: &mut [Value],
        replaced: &mut Vec<(usize, Value)>,
    ) -> Result<(), FieldError> {
        let mut now = Vec::with_capacity(row.len());
        self.encode(&mut now)?;
        let version = Self::META.version;
        for (column, (value, new)) in row.iter_mut().zip(now).enumerate() {
            if column != version && *value != new {
                replaced.push((column, std::mem::replace(value, new)));
            }
        }
        Ok(())
    }

    /// Builds the aggregate from a row; fields that are not stored (the events
    /// field) start empty.
    fn decode<R: RowSource + ?Sized>(row: &R) -> Result<Self, FieldError>;

    /// Drains the events recorded since the last drain, in recording order.
    fn take_events(&mut self) -> Vec<Self::Event>;

    /// Writes the rows of its `#[aggregate(children)]` fields (generated
    /// when it has some).
    fn write_children(&self, writer: &mut ChildWriter<'_>) -> Result<(), Error> {
        let _ = writer;
        Ok(())
    }

    /// Fills its `#[aggregate(children)]` fields from loaded rows
    /// (generated when it has some; [`decode`](Self::decode) leaves them
    /// empty).
    fn read_children(&mut self, reader: &mut ChildReader<'_>) -> Result<(), Error> {
        let _ = reader;
        Ok(())
    }
}

/// Read access to one stored row, implemented by each backend over its own
/// row type so that decoding needs no intermediate map.
pub trait RowSource {
    /// The value of column `index` (of [`AggregateMeta::columns`]). Reading a
    /// column does not consume it: a column can be read again (for messages).
    fn get(&self, index: usize) -> Result<Value, ValueError>;
}

impl RowSource for [Value] {
    fn get(&self, index: usize) -> Result<Value, ValueError> {
        <[Value]>::get(self, index)
            .cloned()
            .ok_or_else(|| ValueError::new(format!("the row has no column {index}")))
    }
}

/// A value that could not be encoded or decoded, and the column it belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// Index into [`AggregateMeta::columns`].
    pub column: usize,
    /// What was wrong.
    pub error: ValueError,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "column {}: {}", self.column, self.error)
    }
}

/// Prints the [`ValueError`]'s message; its source is the value error's.
impl std::error::Error for FieldError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.error)
    }
}

/// Backend-neutral description of an aggregate's storage.
#[derive(Debug)]
pub struct AggregateMeta {
    /// The Rust type name (`"Product"`), used in messages.
    pub name: &'static str,
    /// The table name.
    pub table: &'static str,
    /// The stored columns, in encoding order.
    pub columns: &'static [ColumnMeta],
    /// Index of the id (primary key) column.
    pub id: usize,
    /// Index of the version column.
    pub version: usize,
    /// The composite indexes declared with `#[aggregate(index(a, b))]`:
    /// each the column indexes (into [`columns`](Self::columns)) of its
    /// fields, in order.
    pub indexes: &'static [&'static [usize]],
    /// The `#[aggregate(children)]` fields, stored in child tables (see
    /// [`child_layout`](Self::child_layout)).
    pub children: &'static [ChildField],
}

impl AggregateMeta {
    /// The id column.
    pub fn id_column(&self) -> &'static ColumnMeta {
        &self.columns[self.id]
    }

    /// The version column.
    pub fn version_column(&self) -> &'static ColumnMeta {
        &self.columns[self.version]
    }

    /// Index of the column named `name`.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }
}

/// One stored column.
#[derive(Debug)]
pub struct ColumnMeta {
    /// The column name.
    pub name: &'static str,
    /// The Rust field it stores.
    pub field: &'static str,
    /// The storage kind.
    pub kind: ColumnKind,
    /// Whether NULL is allowed (an `Option` field).
    pub nullable: bool,
    /// What else the column is for.
    pub role: ColumnRole,
}

/// The part a column plays beyond holding a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ColumnRole {
    /// A plain attribute.
    Plain,
    /// The primary key.
    Id,
    /// The optimistic-concurrency version.
    Version,
    /// Has a `find_by_<field>` finder: indexed.
    Finder,
    /// Has a `get_by_<field>` getter: unique.
    Unique,
    /// A plain attribute in a composite index (`#[aggregate(index(..))]`):
    /// a key, limited to [`MAX_KEY_LEN`](crate::backend::MAX_KEY_LEN)
    /// characters, so every database can index it.
    Indexed,
}

impl ColumnMeta {
    /// Whether the column gets a non-unique index (finders).
    pub fn is_indexed(&self) -> bool {
        self.role == ColumnRole::Finder
    }

    /// Whether the column is a key: the id, a `unique`, a `find_by` or a
    /// composite index's column (limited to [`MAX_KEY_LEN`](crate::backend::MAX_KEY_LEN) characters).
    pub fn is_key(&self) -> bool {
        matches!(
            self.role,
            ColumnRole::Id | ColumnRole::Unique | ColumnRole::Finder | ColumnRole::Indexed
        )
    }

    /// Whether the column carries a unique constraint (besides the id).
    pub fn is_unique(&self) -> bool {
        self.role == ColumnRole::Unique
    }
}

/// Decodes one stored row into `A`, turning a failure into [`Error::Decode`]
/// naming the table, column and id. Backends call this for every row they read.
pub fn decode_row<A: Aggregate, R: RowSource + ?Sized>(row: &R) -> Result<A, Error> {
    A::decode(row).map_err(|e| {
        let meta = A::META;
        let id = match row.get(meta.id) {
            Ok(v) if !v.is_null() => v.to_string(),
            _ => "?".to_owned(),
        };
        Error::Decode {
            aggregate: meta.name,
            table: meta.table,
            column: meta.columns.get(e.column).map_or("?", |c| c.name),
            id,
            reason: e.error,
        }
    })
}

/// Encodes `aggregate` into a row, turning a failure into [`Error::Encode`]:
/// a field's conversion failing, or a value that some store could not hold
/// exactly ([`check_storable`]), so that every store, the in-memory one
/// included, refuses the same values.
pub fn encode_row<A: Aggregate>(aggregate: &A) -> Result<Vec<Value>, Error> {
    let meta = A::META;
    let mut row = Vec::with_capacity(meta.columns.len());
    let failed = |e: FieldError| Error::Encode {
        aggregate: meta.name,
        field: meta.columns.get(e.column).map_or("?", |c| c.field),
        id: short_id_text::<A>(aggregate.id()),
        reason: e.error,
    };
    aggregate.encode(&mut row).map_err(failed)?;
    finish_row(meta.columns, &mut row).map_err(failed)?;
    Ok(row)
}

/// [`Aggregate::refresh_row`] with its failure turned into [`Error::Encode`]
/// as [`encode_row`] does, and the values replaced brought to their
/// columns' scale and checked ([`finish_row`]); `true` when a stored value
/// changed. `replaced` is cleared first (a buffer reused across
/// aggregates).
pub(crate) fn refresh_row<A: Aggregate>(
    aggregate: &A,
    row: &mut [Value],
    replaced: &mut Vec<(usize, Value)>,
) -> Result<bool, Error> {
    let meta = A::META;
    let failed = |e: FieldError| Error::Encode {
        aggregate: meta.name,
        field: meta.columns.get(e.column).map_or("?", |c| c.field),
        id: short_id_text::<A>(aggregate.id()),
        reason: e.error,
    };
    replaced.clear();
    aggregate.refresh_row(row, replaced).map_err(failed)?;
    let mut changed = false;
    for (column, old) in replaced.iter() {
        let (value, column_meta) = (&mut row[*column], &meta.columns[*column]);
        at_column_scale(column_meta, value)
            .and_then(|()| check_storable(column_meta.kind, column_meta.is_key(), value))
            .map_err(|error| {
                failed(FieldError {
                    column: *column,
                    error,
                })
            })?;
        changed |= *value != *old;
    }
    Ok(changed)
}

/// Brings each value of an encoded row to its column's scale and refuses a
/// value some store could not hold exactly ([`check_storable`]).
pub(crate) fn finish_row(columns: &[ColumnMeta], row: &mut [Value]) -> Result<(), FieldError> {
    for (column, (value, meta)) in row.iter_mut().zip(columns).enumerate() {
        at_column_scale(meta, value)
            .and_then(|()| check_storable(meta.kind, meta.is_key(), value))
            .map_err(|error| FieldError { column, error })?;
    }
    Ok(())
}

/// A decimal of a `decimal(precision, scale)` column at the column's scale
/// (see [`fixed_scale`](crate::backend::fixed_scale)); any other value as it is.
fn at_column_scale(column: &ColumnMeta, value: &mut Value) -> Result<(), ValueError> {
    if let (ColumnKind::FixedDecimal { precision, scale }, Value::Decimal(text)) =
        (column.kind, &*value)
    {
        *value = Value::Decimal(crate::backend::fixed_scale(text, precision, scale)?);
    }
    Ok(())
}

/// A lookup key as column `column` stores it: a decimal at the column's
/// scale when it fits (one that does not fit matches nothing, on every
/// store).
#[doc(hidden)]
pub fn key_in_column(column: &ColumnMeta, mut value: Value) -> Value {
    let original = value.clone();
    match at_column_scale(column, &mut value) {
        Ok(()) => value,
        Err(_) => original,
    }
}

/// The id of an aggregate as it appears in error messages.
pub(crate) fn id_text<A: Aggregate>(id: &A::Id) -> String {
    match id.to_value() {
        Ok(v) => v.to_string(),
        Err(_) => format!("{id:?}"),
    }
}

/// [`id_text`], a very long one (that a store refused, say) cut short
/// rather than repeated whole.
fn short_id_text<A: Aggregate>(id: &A::Id) -> String {
    const SHOWN: usize = 64;
    let text = id_text::<A>(id);
    match text.char_indices().nth(SHOWN) {
        Some((end, _)) => format!("{}… ({} bytes)", &text[..end], text.len()),
        None => text,
    }
}
