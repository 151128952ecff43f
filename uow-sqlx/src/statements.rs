//! The statement texts of each aggregate, built once per store on first use.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use uow_core::AggregateMeta;

use crate::dialect::Dialect;
use crate::sql::{TableSql, table_sql};

/// Built statements by table. sqlx prepares each text once per connection and
/// reuses the prepared statement, so reusing the text is what makes the
/// statement cache hit.
#[derive(Debug)]
pub(crate) struct Statements {
    dialect: Dialect,
    by_table: RwLock<HashMap<&'static str, Arc<TableSql>>>,
}

impl Statements {
    pub(crate) fn new(dialect: Dialect) -> Self {
        Statements {
            dialect,
            by_table: RwLock::new(HashMap::new()),
        }
    }

    pub(crate) fn get(&self, meta: &'static AggregateMeta) -> Arc<TableSql> {
        if let Some(sql) = self
            .by_table
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(meta.table)
        {
            return Arc::clone(sql);
        }
        let sql = Arc::new(table_sql(self.dialect, meta));
        self.by_table
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(meta.table)
            .or_insert(sql)
            .clone()
    }
}
