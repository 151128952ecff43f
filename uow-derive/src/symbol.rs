//! The names of our attributes and their keys, in one table.

use std::fmt::{self, Display};

use syn::{Ident, Path};

/// An attribute or key name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Symbol(&'static str);

impl Symbol {
    pub fn as_str(self) -> &'static str {
        self.0
    }
}

/// `#[aggregate(...)]`, the helper attribute of `#[derive(Aggregate)]`.
pub const AGGREGATE: Symbol = Symbol("aggregate");
/// `#[entity(...)]`, the helper attribute of `#[derive(Entity)]`.
pub const ENTITY: Symbol = Symbol("entity");
/// `#[column_value(...)]`, the helper attribute of `#[derive(ColumnValue)]`.
pub const COLUMN_VALUE: Symbol = Symbol("column_value");
/// `#[unit_of_work(...)]`.
pub const UNIT_OF_WORK: Symbol = Symbol("unit_of_work");

/// Struct key: the table name.
pub const TABLE: Symbol = Symbol("table");
/// Struct key: the path of `uow_core` in generated code.
pub const CRATE: Symbol = Symbol("crate");
/// Struct key: the name of the generated repository trait.
pub const REPOSITORY: Symbol = Symbol("repository");
/// Struct key: `index(a, b)`, a composite index over fields `a`, `b`.
pub const INDEX: Symbol = Symbol("index");
/// Struct flag: `PartialEq`, `Eq` and `Hash` by id.
pub const EQ_BY_ID: Symbol = Symbol("eq_by_id");
/// Field flag: the identity.
pub const ID: Symbol = Symbol("id");
/// Field flag: the optimistic-concurrency version.
pub const VERSION: Symbol = Symbol("version");
/// Field key: the column name.
pub const COLUMN: Symbol = Symbol("column");
/// Field flag: stored as one JSON document.
pub const JSON: Symbol = Symbol("json");
/// Field key: `decimal(precision = P, scale = S)`, a `DECIMAL(P, S)` column.
pub const DECIMAL: Symbol = Symbol("decimal");
/// Field flag: a `find_by_<field>` finder and an index.
pub const FIND_BY: Symbol = Symbol("find_by");
/// Field flag: a `get_by_<field>` getter and a unique constraint.
pub const UNIQUE: Symbol = Symbol("unique");
/// Field flag on an aggregate: the recorded domain events. Key of
/// `#[unit_of_work]`: the event type `commit()` returns.
pub const EVENTS: Symbol = Symbol("events");
pub const OUTBOX: Symbol = Symbol("outbox");
/// Variant key of `#[column_value(...)]`: the text stored for the variant.
pub const RENAME: Symbol = Symbol("rename");

/// The keys each attribute accepts, by where it is written.
pub const AGGREGATE_STRUCT_KEYS: &[Symbol] = &[TABLE, REPOSITORY, CRATE, EQ_BY_ID, INDEX];
pub const AGGREGATE_FIELD_KEYS: &[Symbol] =
    &[ID, VERSION, COLUMN, JSON, FIND_BY, UNIQUE, EVENTS, DECIMAL];
pub const ENTITY_STRUCT_KEYS: &[Symbol] = &[CRATE, EQ_BY_ID];
pub const ENTITY_FIELD_KEYS: &[Symbol] = &[ID];
pub const COLUMN_VALUE_STRUCT_KEYS: &[Symbol] = &[CRATE];
pub const COLUMN_VALUE_FIELD_KEYS: &[Symbol] = &[];
pub const COLUMN_VALUE_VARIANT_KEYS: &[Symbol] = &[RENAME];
pub const UNIT_OF_WORK_KEYS: &[Symbol] = &[EVENTS, OUTBOX, CRATE];

/// Names people reach for that mean one of our keys.
pub const SYNONYMS: &[(&str, Symbol)] = &[
    ("rename", COLUMN),
    ("name", COLUMN),
    ("column_name", COLUMN),
    ("primary_key", ID),
    ("pk", ID),
    ("key", ID),
    ("identity", ID),
    ("index", FIND_BY),
    ("indexed", FIND_BY),
    ("finder", FIND_BY),
    ("jsonb", JSON),
    ("event", EVENTS),
    ("table_name", TABLE),
    ("name", RENAME),
    ("value", RENAME),
];

impl PartialEq<Symbol> for Ident {
    fn eq(&self, word: &Symbol) -> bool {
        self == word.0
    }
}

impl PartialEq<Symbol> for &Ident {
    fn eq(&self, word: &Symbol) -> bool {
        *self == word.0
    }
}

impl PartialEq<Symbol> for Path {
    fn eq(&self, word: &Symbol) -> bool {
        self.is_ident(word.0)
    }
}

impl PartialEq<Symbol> for &Path {
    fn eq(&self, word: &Symbol) -> bool {
        self.is_ident(word.0)
    }
}

impl Display for Symbol {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.0)
    }
}
