//! The statement texts of each aggregate, built once per store on first use.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use uow_core::backend::AggregateMeta;

use crate::dialect::Dialect;
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
    dialect: Dialect,
    by_aggregate: RwLock<HashMap<usize, Arc<TableSql>>>,
}

impl Statements {
    pub(crate) fn new(dialect: Dialect) -> Self {
        Statements {
            dialect,
            by_aggregate: RwLock::new(HashMap::new()),
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
        let sql = Arc::new(table_sql(self.dialect, meta));
        self.by_aggregate
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(key)
            .or_insert(sql)
            .clone()
    }
}
