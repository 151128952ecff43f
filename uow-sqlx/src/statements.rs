//! The statement texts of a store: each aggregate's, built once on first
//! use, and the commit markers'.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use uow_core::backend::AggregateMeta;

use crate::commit_marker::MarkerSql;
use crate::dialect::SqlDialect;
use crate::sql::{TableSql, table_sql};

/// Built statements by aggregate. sqlx prepares each text once per
/// connection and reuses the prepared statement, so reusing the text is what
/// makes the statement cache hit.
///
/// Keyed by the aggregate's metadata (its address), not by table name: two
/// aggregates stored in one table (with different columns) get statements
/// of their own. One aggregate whose metadata the compiler placed at two
/// addresses builds its statements twice, which costs nothing but memory.
#[derive(Debug)]
pub(crate) struct Statements {
    /// The builder of an aggregate's statements in the store's database.
    build: fn(&AggregateMeta) -> TableSql,
    by_aggregate: RwLock<HashMap<usize, Arc<TableSql>>>,
    /// The commit markers' statements.
    pub(crate) markers: Arc<MarkerSql>,
}

impl Statements {
    /// The statements of a store over a database whose SQL is `S`.
    pub(crate) fn new<S: SqlDialect>() -> Self {
        Statements {
            build: table_sql::<S>,
            by_aggregate: RwLock::new(HashMap::new()),
            markers: Arc::new(MarkerSql::new::<S>()),
        }
    }

    pub(crate) fn get(&self, meta: &'static AggregateMeta) -> Arc<TableSql> {
        let key = std::ptr::from_ref(meta) as usize;
        if let Some(sql) = self
            .by_aggregate
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
        {
            return Arc::clone(sql);
        }
        let sql = Arc::new((self.build)(meta));
        self.by_aggregate
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(key)
            .or_insert(sql)
            .clone()
    }
}
