//! Child entities stored in tables of their own: the metadata
//! `#[derive(Entity)]` emits for a child, the layout of an aggregate's child
//! tables, and the behaviour every store shares — encoding an aggregate's
//! children to rows, attaching loaded rows to their roots, and diffing the
//! rows of a commit against the snapshot taken at load.
//!
//! # Storage
//!
//! A field `#[aggregate(children)] batches: Vec<Batch>` (or `Option<Batch>`)
//! is stored in the child table of `Batch` (`#[entity(table = "...")]`,
//! by default the snake_case type name, `batch`). A child row holds, before
//! the child's own columns:
//!
//! - [`ROOT_COLUMN`] (`root_id`): the id of the aggregate root, with a
//!   foreign key to the root's table (`ON DELETE CASCADE`);
//! - [`PARENT_COLUMN`] (`parent_id`), for a child of a child only: the id of
//!   the parent child, with a foreign key to the parent's child table;
//! - [`POSITION_COLUMN`] (`position`): the child's place in its field
//!   (0, 1, …), so that children load in the order the domain wrote them.
//!
//! A child row's key is `(root_id, <child id>)`: a child id is unique within
//! its aggregate (two children of one aggregate with the same id are
//! refused at commit with [`Error::DuplicateChild`], on every store), and
//! may repeat in other aggregates.
//!
//! # Commit
//!
//! The rows of a loaded aggregate's children are snapshotted at load. At
//! commit they are compared by key: a new key is inserted, a missing one
//! deleted, a changed row updated, an unchanged one not written — whatever
//! way the id was assigned (application UUIDs, natural keys). A child that
//! moved to another parent is deleted and inserted. When any child row
//! changed, the root's row is updated too, version-checked and with its
//! version + 1: two units of work changing different children of one
//! aggregate conflict as if they had changed the root.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, PoisonError};

use crate::aggregate::{
    Aggregate, AggregateMeta, ColumnMeta, Entity, FieldError, RowSource, finish_row, id_text,
};
use crate::error::Error;
use crate::value::{ColumnValue, Value};

/// The column of a child table holding the id of the aggregate root.
pub const ROOT_COLUMN: &str = "root_id";
/// The column of a nested child table holding the id of the parent child.
pub const PARENT_COLUMN: &str = "parent_id";
/// The column of a child table holding the child's place in its field.
pub const POSITION_COLUMN: &str = "position";

/// A child entity stored in a table of its own, inside an aggregate
/// (`#[aggregate(children)]`) or inside another child
/// (`#[entity(children)]`). Implemented by `#[derive(Entity)]` when every
/// stored field of the entity is a column value and it has an
/// `#[entity(id)]`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be stored as a child entity",
    label = "a `children` field holds `#[derive(Entity)]` types",
    note = "derive `Entity` for `{Self}`, with an `#[entity(id)]` field, and make each of its other fields a column value (`ColumnValue`) or `#[entity(children)]`"
)]
pub trait ChildEntity: Entity<Id: ColumnValue> + Sized + Send + Sync + 'static {
    /// Table, columns, id and nested children.
    const META: &'static ChildMeta;

    /// Pushes one value per column of [`META.columns`](ChildMeta::columns).
    fn encode(&self, row: &mut Vec<Value>) -> Result<(), FieldError>;

    /// Builds the child from its own columns; its `children` fields start
    /// empty.
    fn decode<R: RowSource + ?Sized>(row: &R) -> Result<Self, FieldError>;

    /// Writes the rows of its own `children` fields (generated).
    fn write_children(&self, writer: &mut ChildWriter<'_>) -> Result<(), Error> {
        let _ = writer;
        Ok(())
    }

    /// Fills its own `children` fields from loaded rows (generated).
    fn read_children(&mut self, reader: &mut ChildReader<'_>) -> Result<(), Error> {
        let _ = reader;
        Ok(())
    }
}

/// Backend-neutral description of a child entity's table.
#[derive(Debug)]
pub struct ChildMeta {
    /// The Rust type name (`"Batch"`).
    pub name: &'static str,
    /// The table name.
    pub table: &'static str,
    /// The child's own stored columns, in encoding order (the key columns
    /// [`ROOT_COLUMN`], [`PARENT_COLUMN`] and [`POSITION_COLUMN`] come
    /// before them in a stored row).
    pub columns: &'static [ColumnMeta],
    /// Index of the id column in `columns`.
    pub id: usize,
    /// Its own `children` fields.
    pub children: &'static [ChildField],
}

/// A `children` field of an aggregate or of a child entity.
#[derive(Debug)]
pub struct ChildField {
    /// The Rust field name.
    pub field: &'static str,
    /// The child stored in it.
    pub child: &'static ChildMeta,
    /// `Vec<C>` (`true`) or `Option<C>` (`false`).
    pub many: bool,
}

/// One child table of an aggregate, with its place in the tree: what stores
/// read and write.
#[derive(Debug)]
pub struct ChildTable {
    /// The aggregate it belongs to.
    pub aggregate: &'static AggregateMeta,
    /// Index of this table in [`ChildLayout::tables`].
    pub index: usize,
    /// The child.
    pub meta: &'static ChildMeta,
    /// The field of the parent it is stored from.
    pub field: &'static str,
    /// Whether the field is a `Vec`.
    pub many: bool,
    /// The parent table (index in [`ChildLayout::tables`]); `None` for a
    /// child of the root.
    pub parent: Option<usize>,
    /// The tables of its own `children` fields, in field order.
    pub fields: Vec<usize>,
    /// The table as stores see its rows: every stored column in row order
    /// ([`ROOT_COLUMN`] with the kind of the root's id, [`PARENT_COLUMN`]
    /// with the kind of the parent's id, [`POSITION_COLUMN`], then the
    /// child's own); its `id` is the [`ROOT_COLUMN`] (a failure a store
    /// reports for a row names the aggregate holding it) and its `version`
    /// the child's id column ([`id_index`](Self::id_index)). The root and
    /// parent columns have the role
    /// [`Finder`](crate::backend::ColumnRole::Finder) (key-sized).
    pub stored: &'static AggregateMeta,
}

impl ChildTable {
    /// The table name.
    pub fn table_name(&self) -> &'static str {
        self.meta.table
    }

    /// Whether the table has a [`PARENT_COLUMN`] (a child of a child).
    pub fn is_nested(&self) -> bool {
        self.parent.is_some()
    }

    /// How many key columns come before the child's own columns in a row.
    pub fn prefix(&self) -> usize {
        if self.is_nested() { 3 } else { 2 }
    }

    /// Index in a stored row of the [`POSITION_COLUMN`].
    pub fn position_index(&self) -> usize {
        self.prefix() - 1
    }

    /// Index in a stored row of the child's id column.
    pub fn id_index(&self) -> usize {
        self.prefix() + self.meta.id
    }

    /// The names of a stored row's columns, in order.
    pub fn column_names(&self) -> Vec<&'static str> {
        let mut names = vec![ROOT_COLUMN];
        if self.is_nested() {
            names.push(PARENT_COLUMN);
        }
        names.push(POSITION_COLUMN);
        names.extend(self.meta.columns.iter().map(|c| c.name));
        names
    }

    /// The key of a stored row: (root id, child id).
    pub fn key(&self, row: &[Value]) -> (Value, Value) {
        (row[0].clone(), row[self.id_index()].clone())
    }
}

/// All child tables of an aggregate, parents before their children.
#[derive(Debug)]
pub struct ChildLayout {
    /// The tables, in pre-order (each parent before its children).
    pub tables: Vec<ChildTable>,
    /// The tables of the root's own `children` fields, in field order.
    pub root_fields: Vec<usize>,
}

impl ChildLayout {
    /// Whether the aggregate has no children.
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }
}

impl AggregateMeta {
    /// The aggregate's child tables (built once per aggregate and kept).
    pub fn child_layout(&'static self) -> &'static ChildLayout {
        static LAYOUTS: OnceLock<Mutex<HashMap<usize, &'static ChildLayout>>> = OnceLock::new();
        static EMPTY: ChildLayout = ChildLayout {
            tables: Vec::new(),
            root_fields: Vec::new(),
        };
        if self.children.is_empty() {
            return &EMPTY;
        }
        let key = self as *const AggregateMeta as usize;
        let mut layouts = LAYOUTS
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        layouts.entry(key).or_insert_with(|| {
            let mut tables = Vec::new();
            let root_fields = self
                .children
                .iter()
                .map(|field| add_table(self, &mut tables, field, None))
                .collect();
            Box::leak(Box::new(ChildLayout {
                tables,
                root_fields,
            }))
        })
    }
}

fn add_table(
    aggregate: &'static AggregateMeta,
    tables: &mut Vec<ChildTable>,
    field: &'static ChildField,
    parent: Option<usize>,
) -> usize {
    let index = tables.len();
    let key = |name: &'static str, of: &'static ColumnMeta| ColumnMeta {
        name,
        field: of.field,
        kind: of.kind,
        nullable: false,
        role: crate::aggregate::ColumnRole::Finder,
    };
    let mut columns = vec![key(ROOT_COLUMN, aggregate.id_column())];
    if let Some(parent) = parent {
        let parent: &ChildTable = &tables[parent];
        columns.push(key(PARENT_COLUMN, &parent.meta.columns[parent.meta.id]));
    }
    columns.push(ColumnMeta {
        name: POSITION_COLUMN,
        field: field.field,
        kind: crate::value::ColumnKind::BigInt,
        nullable: false,
        role: crate::aggregate::ColumnRole::Plain,
    });
    let prefix = columns.len();
    columns.extend(field.child.columns.iter().map(|c| ColumnMeta {
        name: c.name,
        field: c.field,
        kind: c.kind,
        nullable: c.nullable,
        role: c.role,
    }));
    let stored: &'static AggregateMeta = Box::leak(Box::new(AggregateMeta {
        name: field.child.name,
        table: field.child.table,
        columns: Box::leak(columns.into_boxed_slice()),
        id: 0,
        version: prefix + field.child.id,
        indexes: &[],
        children: &[],
    }));
    tables.push(ChildTable {
        aggregate,
        index,
        meta: field.child,
        field: field.field,
        many: field.many,
        parent,
        fields: Vec::new(),
        stored,
    });
    let fields = field
        .child
        .children
        .iter()
        .map(|nested| add_table(aggregate, tables, nested, Some(index)))
        .collect();
    tables[index].fields = fields;
    index
}

/// The stored rows of an aggregate's children, one list per child table
/// (indexed like [`ChildLayout::tables`]).
pub type ChildRows = Vec<Vec<Vec<Value>>>;

/// How a `children` field holds its children: `Vec<C>` or `Option<C>`.
pub trait ChildCollection<C>: Sized {
    /// The children, in order.
    fn children<'a>(&'a self) -> impl Iterator<Item = &'a C>
    where
        C: 'a;
    /// The field from loaded children, in order; `None` when they do not
    /// fit (two rows for an `Option`).
    fn from_children(children: Vec<C>) -> Option<Self>;
}

impl<C> ChildCollection<C> for Vec<C> {
    fn children<'a>(&'a self) -> impl Iterator<Item = &'a C>
    where
        C: 'a,
    {
        self.iter()
    }

    fn from_children(children: Vec<C>) -> Option<Self> {
        Some(children)
    }
}

impl<C> ChildCollection<C> for Option<C> {
    fn children<'a>(&'a self) -> impl Iterator<Item = &'a C>
    where
        C: 'a,
    {
        self.iter()
    }

    fn from_children(mut children: Vec<C>) -> Option<Self> {
        match children.len() {
            0 => Some(None),
            1 => children.pop().map(Some),
            _ => None,
        }
    }
}

/// Writes an aggregate's children to rows (generated `write_children`
/// calls [`field`](Self::field) once per `children` field).
pub struct ChildWriter<'a> {
    layout: &'static ChildLayout,
    aggregate: &'static AggregateMeta,
    rows: &'a mut ChildRows,
    root: Value,
    root_text: &'a dyn Fn() -> String,
    /// The table and id of the child whose fields are written; `None` at
    /// the root.
    node: Option<(usize, Value)>,
}

impl std::fmt::Debug for ChildWriter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChildWriter")
            .field("aggregate", &self.aggregate.name)
            .finish()
    }
}

impl ChildWriter<'_> {
    /// Writes the children of `children` field number `field` (in
    /// declaration order) of the entity being written.
    pub fn field<C: ChildEntity, F: ChildCollection<C>>(
        &mut self,
        field: usize,
        children: &F,
    ) -> Result<(), Error> {
        let table_index = match &self.node {
            None => self.layout.root_fields[field],
            Some((node, _)) => self.layout.tables[*node].fields[field],
        };
        let table = &self.layout.tables[table_index];
        let children = children.children();
        self.rows[table_index].reserve(children.size_hint().0);
        for (position, child) in children.enumerate() {
            let mut row = Vec::with_capacity(table.prefix() + C::META.columns.len());
            row.push(self.root.clone());
            if let Some((_, parent)) = &self.node {
                row.push(parent.clone());
            }
            row.push(Value::Int(position as i64));
            let prefix = row.len();
            let failed = |e: FieldError| Error::Encode {
                aggregate: self.aggregate.name,
                field: C::META.columns.get(e.column).map_or("?", |c| c.field),
                id: (self.root_text)(),
                reason: e.error,
            };
            child.encode(&mut row).map_err(failed)?;
            finish_row(C::META.columns, &mut row[prefix..]).map_err(failed)?;
            // A child without children of its own needs no node (its id
            // would be cloned for nothing).
            if !C::META.children.is_empty() {
                let id = row[prefix + C::META.id].clone();
                let outer = self.node.replace((table_index, id));
                let written = child.write_children(self);
                self.node = outer;
                written?;
            }
            self.rows[table_index].push(row);
        }
        Ok(())
    }
}

/// Encodes the children of `aggregate` into one list of rows per child
/// table (empty when it has none).
pub fn encode_children<A: Aggregate>(aggregate: &A) -> Result<ChildRows, Error> {
    let layout = A::META.child_layout();
    let mut rows = vec![Vec::new(); layout.tables.len()];
    if layout.is_empty() {
        return Ok(rows);
    }
    let root = aggregate.id().to_value().map_err(|reason| Error::Encode {
        aggregate: A::META.name,
        field: A::META.id_column().field,
        id: id_text::<A>(aggregate.id()),
        reason,
    })?;
    let root_text = || id_text::<A>(aggregate.id());
    let mut writer = ChildWriter {
        layout,
        aggregate: A::META,
        rows: &mut rows,
        root,
        root_text: &root_text,
        node: None,
    };
    aggregate.write_children(&mut writer)?;
    Ok(rows)
}

/// The parent key of rows of a child of the root.
static NO_PARENT: Value = Value::Null;

/// Loaded child rows, each table's sorted by root, parent and position,
/// that the roots they belong to take their children from.
pub struct ChildReader<'a> {
    layout: &'static ChildLayout,
    aggregate: &'static AggregateMeta,
    rows: ChildRows,
    root: &'a Value,
    /// The table and id of the child whose fields are read; `None` at the
    /// root.
    node: Option<(usize, Value)>,
    /// When the rows are kept as the roots' snapshots: per table, the
    /// indices of the rows the current root took, in the order read (the
    /// order [`encode_children`] writes them). The rows are then read by
    /// copying their values, not by moving them out.
    taken: Option<Vec<Vec<usize>>>,
}

impl std::fmt::Debug for ChildReader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChildReader")
            .field("aggregate", &self.aggregate.name)
            .finish()
    }
}

/// A stored row read by moving its values out (each column is read once).
struct Taking<'r>(std::cell::RefCell<&'r mut [Value]>);

impl RowSource for Taking<'_> {
    fn get(&self, index: usize) -> Result<Value, crate::ValueError> {
        let mut row = self.0.borrow_mut();
        row.get_mut(index)
            .map(|value| std::mem::replace(value, Value::Null))
            .ok_or_else(|| crate::ValueError::new(format!("the row has no column {index}")))
    }
}

/// The parent key of a stored row of `table`.
fn parent_of<'v>(table: &ChildTable, row: &'v [Value]) -> &'v Value {
    if table.is_nested() {
        &row[1]
    } else {
        &NO_PARENT
    }
}

impl ChildReader<'_> {
    /// The children of `children` field number `field` of the entity being
    /// read, in position order.
    pub fn field<C: ChildEntity, F: ChildCollection<C>>(
        &mut self,
        field: usize,
    ) -> Result<F, Error> {
        let table_index = match &self.node {
            None => self.layout.root_fields[field],
            Some((node, _)) => self.layout.tables[*node].fields[field],
        };
        let table = &self.layout.tables[table_index];
        let parent = match &self.node {
            None => Value::Null,
            Some((_, id)) => id.clone(),
        };
        let (start, end) = {
            let rows = &self.rows[table_index];
            let key = (self.root, &parent);
            let start = rows.partition_point(|r| (&r[0], parent_of(table, r)) < key);
            let end = rows.partition_point(|r| (&r[0], parent_of(table, r)) <= key);
            (start, end)
        };
        let prefix = table.prefix();
        let mut children = Vec::with_capacity(end - start);
        for i in start..end {
            let row = &mut self.rows[table_index][i];
            // A child without children of its own needs no node.
            let id = (!C::META.children.is_empty()).then(|| row[prefix + C::META.id].clone());
            let decoded = match &mut self.taken {
                Some(taken) => {
                    taken[table_index].push(i);
                    C::decode(&row[prefix..])
                }
                None => C::decode(&Taking(std::cell::RefCell::new(&mut row[prefix..]))),
            };
            let mut child = decoded.map_err(|e| Error::Decode {
                aggregate: self.aggregate.name,
                table: table.table_name(),
                column: C::META.columns.get(e.column).map_or("?", |c| c.name),
                id: self.root.to_string(),
                reason: e.error,
            })?;
            if let Some(id) = id {
                let outer = self.node.replace((table_index, id));
                let read = child.read_children(self);
                self.node = outer;
                read?;
            }
            children.push(child);
        }
        F::from_children(children).ok_or_else(|| Error::Decode {
            aggregate: self.aggregate.name,
            table: table.table_name(),
            column: POSITION_COLUMN,
            id: self.root.to_string(),
            reason: crate::ValueError::new(format!(
                "more than one `{}` row for the `Option` field `{}`",
                C::META.name,
                table.field
            )),
        })
    }
}

/// Gives each of `roots` its children from `rows` (one list per child
/// table of `A`, as a store loaded them for these roots: any order). What
/// every store calls after loading roots.
pub fn attach_children<A: Aggregate>(roots: &mut [A], rows: ChildRows) -> Result<(), Error> {
    read_children(roots, rows, false).map(drop)
}

/// [`attach_children`], keeping the rows each root took as its snapshot
/// (one [`ChildRows`] per root, in the order [`encode_children`] writes
/// them): what a store calls when the rows it read are the children's
/// stored form, so that the unit of work need not encode them again (see
/// [`Loaded`](crate::backend::Loaded)). Every value is copied out of the
/// rows instead of moved.
pub fn attach_children_kept<A: Aggregate>(
    roots: &mut [A],
    rows: ChildRows,
) -> Result<Vec<ChildRows>, Error> {
    read_children(roots, rows, true)
}

/// Gives each root its children; with `keep`, returns the rows each took.
fn read_children<A: Aggregate>(
    roots: &mut [A],
    mut rows: ChildRows,
    keep: bool,
) -> Result<Vec<ChildRows>, Error> {
    let layout = A::META.child_layout();
    if layout.is_empty() || roots.is_empty() {
        let none = || vec![Vec::new(); layout.tables.len()];
        return Ok(if keep {
            roots.iter().map(|_| none()).collect()
        } else {
            Vec::new()
        });
    }
    for (table, table_rows) in layout.tables.iter().zip(rows.iter_mut()) {
        let position = table.position_index();
        table_rows.sort_by(|a, b| {
            (&a[0], parent_of(table, a), &a[position]).cmp(&(
                &b[0],
                parent_of(table, b),
                &b[position],
            ))
        });
    }
    let ids = roots
        .iter()
        .map(|root| {
            root.id().to_value().map_err(|reason| Error::Encode {
                aggregate: A::META.name,
                field: A::META.id_column().field,
                id: id_text::<A>(root.id()),
                reason,
            })
        })
        .collect::<Result<Vec<Value>, Error>>()?;
    let mut reader = ChildReader {
        layout,
        aggregate: A::META,
        rows,
        root: &NO_PARENT,
        node: None,
        taken: None,
    };
    let mut taken = Vec::with_capacity(if keep { roots.len() } else { 0 });
    for (root, id) in roots.iter_mut().zip(&ids) {
        reader.root = id;
        if keep {
            reader.taken = Some(vec![Vec::new(); layout.tables.len()]);
        }
        root.read_children(&mut reader)?;
        if let Some(rows) = reader.taken.take() {
            taken.push(rows);
        }
    }
    // Every root has read its children: its rows move into its snapshot.
    let mut rows = reader.rows;
    Ok(taken
        .into_iter()
        .map(|tables| {
            tables
                .into_iter()
                .zip(rows.iter_mut())
                .map(|(indices, table_rows)| {
                    indices
                        .into_iter()
                        .map(|i| std::mem::take(&mut table_rows[i]))
                        .collect()
                })
                .collect()
        })
        .collect())
}

/// The writes to one child table in a commit, each list ordered by key.
/// Child rows are not version-checked themselves: the root's row is, in the
/// same commit, whenever any of its children changed.
#[derive(Debug)]
pub struct ChildChanges {
    /// The table.
    pub table: &'static ChildTable,
    /// Keys `(root id, child id)` of rows to delete (with their descendants).
    pub deletes: Vec<(Value, Value)>,
    /// Full new rows to update, by their key.
    pub updates: Vec<Vec<Value>>,
    /// Full rows to insert.
    pub inserts: Vec<Vec<Value>>,
}

impl ChildChanges {
    /// No writes yet.
    pub fn new(table: &'static ChildTable) -> Self {
        ChildChanges {
            table,
            deletes: Vec::new(),
            updates: Vec::new(),
            inserts: Vec::new(),
        }
    }

    /// `true` when there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.deletes.is_empty() && self.updates.is_empty() && self.inserts.is_empty()
    }

    /// Number of row writes.
    pub fn len(&self) -> usize {
        self.deletes.len() + self.updates.len() + self.inserts.len()
    }
}

/// Refuses two children with the same id in one child table of one
/// aggregate.
pub(crate) fn check_unique_ids<A: Aggregate>(id: &A::Id, rows: &ChildRows) -> Result<(), Error> {
    let layout = A::META.child_layout();
    for (table, table_rows) in layout.tables.iter().zip(rows) {
        let index = table.id_index();
        let mut seen = std::collections::HashSet::with_capacity(table_rows.len());
        for row in table_rows {
            if !seen.insert(&row[index]) {
                return Err(Error::DuplicateChild {
                    aggregate: A::META.name,
                    id: id_text::<A>(id),
                    child: table.meta.name,
                    child_id: row[index].to_string(),
                });
            }
        }
    }
    Ok(())
}

/// Adds to `out` (one entry per child table) the writes that turn `old`
/// rows into `new` rows; returns whether anything changed.
pub(crate) fn diff_children(
    layout: &'static ChildLayout,
    old: &ChildRows,
    new: &ChildRows,
    out: &mut [ChildChanges],
) -> bool {
    let mut changed = false;
    // Per table, the ids of the rows deleted and inserted again (moved to
    // another parent): their own children are rewritten with them, since
    // deleting a row deletes its children.
    let mut moved: Vec<std::collections::HashSet<Value>> =
        vec![Default::default(); layout.tables.len()];
    for table in &layout.tables {
        let (old, new) = (&old[table.index], &new[table.index]);
        let parent_moved = table.parent.is_some_and(|p| !moved[p].is_empty());
        if old == new && !parent_moved {
            continue;
        }
        let changes = &mut out[table.index];
        let id = table.id_index();
        let by_key: HashMap<&Value, &Vec<Value>> = old.iter().map(|r| (&r[id], r)).collect();
        let kept: std::collections::HashSet<&Value> = new.iter().map(|r| &r[id]).collect();
        for row in old {
            if !kept.contains(&row[id]) {
                changes.deletes.push(table.key(row));
                changed = true;
            }
        }
        for row in new {
            match by_key.get(&row[id]) {
                None => {
                    changes.inserts.push(row.clone());
                    changed = true;
                }
                // Moved to another parent: deleted there (with its own
                // children, which are inserted again under it) and
                // inserted here.
                Some(previous)
                    if table.is_nested()
                        && (previous[1] != row[1]
                            || table.parent.is_some_and(|p| moved[p].contains(&row[1]))) =>
                {
                    changes.deletes.push(table.key(row));
                    changes.inserts.push(row.clone());
                    moved[table.index].insert(row[id].clone());
                    changed = true;
                }
                Some(previous) if *previous != row => {
                    changes.updates.push(row.clone());
                    changed = true;
                }
                Some(_) => {}
            }
        }
    }
    changed
}

/// Sorts each child table's writes by key, the order every store executes
/// them in.
pub(crate) fn sort_changes(changes: &mut [ChildChanges]) {
    for change in changes {
        let table = change.table;
        change.deletes.sort();
        change.updates.sort_by_key(|row| table.key(row));
        change.inserts.sort_by_key(|row| table.key(row));
    }
}
