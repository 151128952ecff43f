//! The statements of one aggregate in one database, built once from its
//! metadata, written once over [`SqlDialect`] (what differs per database,
//! such as a batched update's text, is the dialect's). Values are never
//! part of the text: every one is a bind parameter.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use sqlx::SqlStr;
use uow_core::backend::AggregateMeta;

use crate::dialect::{ArraySql, SqlDialect, sql, values_list};

/// How many batch statement texts one table keeps besides the powers of
/// two (see [`TableSql::batch`]): a bound on the memory a service that
/// commits many different numbers of rows spends on texts.
pub const KEPT_ODD_SIZES: usize = 64;

/// Every statement uow runs for one aggregate.
#[derive(Debug)]
pub struct TableSql {
    /// `SELECT <columns> FROM t WHERE id = ?`.
    pub select_by_id: SqlStr,
    /// `SELECT <columns> FROM t ORDER BY id LIMIT ?`.
    pub select_all: SqlStr,
    /// Per column: `SELECT ... WHERE c = ? ORDER BY id`.
    pub select_by_column: Vec<SqlStr>,
    /// Per column: `SELECT ... WHERE c IS NULL ORDER BY id`.
    pub select_by_null: Vec<SqlStr>,
    /// `INSERT INTO t (<columns>) VALUES (?, ...)`.
    pub insert: SqlStr,
    /// `UPDATE t SET <non-id columns> = ? WHERE id = ? AND version = ?`;
    /// binds the non-id columns in order, then the id, then the expected version.
    pub update: SqlStr,
    /// [`update`](Self::update) with the insert of a commit marker folded
    /// in (see [`SqlDialect::marked_update`]): binds as `update`, then the
    /// unit id. `None` where the database cannot fold them.
    pub update_marked: Option<SqlStr>,
    /// `DELETE FROM t WHERE id = ? AND version = ?`.
    pub delete: SqlStr,
    /// Where the database has arrays (PostgreSQL): batch statements that
    /// take each column as one array parameter, so one text (prepared once)
    /// serves any number of rows.
    pub arrays: Option<ArraySql>,
    /// The builder of batch statements in the table's database.
    batch_sql: fn(&AggregateMeta, Batch, usize) -> SqlStr,
    /// Batch statements by kind and row count, built on first use.
    batches: Mutex<HashMap<(Batch, usize), SqlStr>>,
    /// Typed queries' statements by shape (see `crate::query`), built on
    /// first use: a page of a listing runs the same text each time.
    queries: Mutex<HashMap<Vec<u64>, SqlStr>>,
    /// Child-loading statements by child table and number of roots, built
    /// on first use.
    children: Mutex<HashMap<(usize, usize), SqlStr>>,
}

/// The most statements of one kind (typed queries, child loads) a
/// [`TableSql`] keeps: shapes past it (`IN` lists of ever new lengths, say)
/// are built on each use rather than kept for the store's lifetime.
const MOST_KEPT: usize = 256;

/// The statement under `key` in `kept`, built by `build` and kept unless
/// [`MOST_KEPT`] are kept already.
fn kept<K: std::hash::Hash + Eq>(
    kept: &Mutex<HashMap<K, SqlStr>>,
    key: K,
    build: impl FnOnce() -> String,
) -> SqlStr {
    let mut kept = kept.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(text) = kept.get(&key) {
        return text.clone();
    }
    let text = sql(build());
    if kept.len() < MOST_KEPT {
        kept.insert(key, text.clone());
    }
    text
}

impl TableSql {
    /// Whether [`batch`](Self::batch) still keeps the text of a size that is
    /// not a power of two (fewer than [`KEPT_ODD_SIZES`] kept).
    pub fn keeps_more_sizes(&self) -> bool {
        let batches = self.batches.lock().unwrap_or_else(PoisonError::into_inner);
        batches.len() < KEPT_ODD_SIZES
    }

    /// The batch statement over `rows` rows, built once per size: every
    /// power of two is kept, and other sizes (the exact rest of an
    /// unpadded commit) up to [`KEPT_ODD_SIZES`] of them; past that, an
    /// odd size is built for the one statement.
    pub fn batch(&self, meta: &AggregateMeta, batch: Batch, rows: usize) -> SqlStr {
        let mut batches = self.batches.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(text) = batches.get(&(batch, rows)) {
            return text.clone();
        }
        let text = (self.batch_sql)(meta, batch, rows);
        if rows.is_power_of_two() || batches.len() < KEPT_ODD_SIZES {
            batches.insert((batch, rows), text.clone());
        }
        text
    }

    /// The statement of a typed query of shape `shape` (everything its
    /// text depends on), built by `build` on first use.
    pub(crate) fn query(&self, shape: Vec<u64>, build: impl FnOnce() -> String) -> SqlStr {
        kept(&self.queries, shape, build)
    }

    /// The statement loading child table `table`'s rows of `roots` roots,
    /// built by `build` on first use.
    pub(crate) fn children(
        &self,
        table: usize,
        roots: usize,
        build: impl FnOnce() -> String,
    ) -> SqlStr {
        kept(&self.children, (table, roots), build)
    }
}

/// Builds the statements of `meta` in `S`.
pub fn table_sql<S: SqlDialect>(meta: &AggregateMeta) -> TableSql {
    let q = S::quote;
    let table = q(meta.table);
    let id = q(meta.id_column().name);
    let version = q(meta.version_column().name);
    let columns = meta
        .columns
        .iter()
        .map(|c| q(c.name))
        .collect::<Vec<_>>()
        .join(", ");
    let select = format!("SELECT {columns} FROM {table}");
    let order = format!(" ORDER BY {}", S::order_by_id(meta));
    let p = S::placeholder;

    let select_by_column = meta
        .columns
        .iter()
        .map(|c| sql(format!("{select} WHERE {} = {}{order}", q(c.name), p(1))))
        .collect();
    let select_by_null = meta
        .columns
        .iter()
        .map(|c| sql(format!("{select} WHERE {} IS NULL{order}", q(c.name))))
        .collect();

    let values = (1..=meta.columns.len())
        .map(p)
        .collect::<Vec<_>>()
        .join(", ");
    let mut n = 0;
    let assignments = meta
        .columns
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != meta.id)
        .map(|(_, c)| {
            n += 1;
            format!("{} = {}", q(c.name), p(n))
        })
        .collect::<Vec<_>>()
        .join(", ");

    let update = format!(
        "UPDATE {table} SET {assignments} WHERE {id} = {} AND {version} = {}",
        p(n + 1),
        p(n + 2)
    );
    TableSql {
        select_by_id: sql(format!("{select} WHERE {id} = {}", p(1))),
        select_all: sql(format!("{select}{order} LIMIT {}", p(1))),
        select_by_column,
        select_by_null,
        insert: sql(format!("INSERT INTO {table} ({columns}) VALUES ({values})")),
        update: sql(update.clone()),
        update_marked: S::marked_update(&update, n + 3).map(sql),
        delete: sql(format!(
            "DELETE FROM {table} WHERE {id} = {} AND {version} = {}",
            p(1),
            p(2)
        )),
        arrays: S::array_sql(meta),
        batch_sql: batch_sql::<S>,
        batches: Mutex::new(HashMap::new()),
        queries: Mutex::new(HashMap::new()),
        children: Mutex::new(HashMap::new()),
    }
}

/// A statement over several rows at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Batch {
    /// `INSERT ... VALUES (...), (...)`: binds full rows.
    Insert,
    /// `INSERT ... SELECT * FROM (VALUES (...), (...)) WHERE id IS NOT
    /// NULL`: binds full rows, the last ones NULLs that pad the batch up to
    /// its size and are not inserted.
    PaddedInsert,
    /// Updates rows from a list of values, each guarded by its version:
    /// binds, per row, the id, the expected version, then the non-id columns.
    Update,
    /// `DELETE ... WHERE (id, version) IN ((?, ?), ...)`: binds id and
    /// expected version per row.
    Delete,
}

impl Batch {
    /// Bind parameters per row.
    pub fn parameters_per_row(self, meta: &AggregateMeta) -> usize {
        match self {
            Batch::Insert | Batch::PaddedInsert => meta.columns.len(),
            Batch::Update => meta.columns.len() + 1,
            Batch::Delete => 2,
        }
    }
}

/// The text of a batch statement over `rows` rows.
pub fn batch_sql<S: SqlDialect>(meta: &AggregateMeta, batch: Batch, rows: usize) -> SqlStr {
    let q = S::quote;
    let table = q(meta.table);
    let id = q(meta.id_column().name);
    let version = q(meta.version_column().name);
    let per_row = batch.parameters_per_row(meta);
    let text = match batch {
        Batch::Insert => {
            let columns: Vec<_> = meta.columns.iter().map(|c| q(c.name)).collect();
            format!(
                "INSERT INTO {table} ({}) VALUES {}",
                columns.join(", "),
                values_list::<S>(rows, per_row, |_| None)
            )
        }
        Batch::PaddedInsert => S::padded_insert(meta, rows),
        Batch::Delete => format!(
            "DELETE FROM {table} WHERE ({id}, {version}) IN ({})",
            values_list::<S>(rows, per_row, |_| None)
        ),
        Batch::Update => S::batch_update(meta, rows),
    };
    sql(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::mysql::MySqlSql;
    use crate::driver::postgres::PostgresSql;
    use crate::driver::sqlite::SqliteSql;
    use uow_core::backend::{ColumnKind, ColumnMeta, ColumnRole};

    const META: AggregateMeta = AggregateMeta {
        name: "Product",
        table: "products",
        columns: &[
            ColumnMeta {
                name: "sku",
                field: "sku",
                kind: ColumnKind::Text,
                nullable: false,
                role: ColumnRole::Id,
            },
            ColumnMeta {
                name: "version",
                field: "version",
                kind: ColumnKind::BigInt,
                nullable: false,
                role: ColumnRole::Version,
            },
            ColumnMeta {
                name: "description",
                field: "description",
                kind: ColumnKind::Text,
                nullable: false,
                role: ColumnRole::Plain,
            },
        ],
        id: 0,
        version: 1,
        indexes: &[],
        children: &[],
    };

    #[test]
    fn update_and_delete_carry_the_version_check() {
        let s = table_sql::<SqliteSql>(&META);
        assert_eq!(
            s.update.as_str(),
            "UPDATE `products` SET `version` = ?, `description` = ? WHERE `sku` = ? AND `version` = ?"
        );
        assert_eq!(
            s.delete.as_str(),
            "DELETE FROM `products` WHERE `sku` = ? AND `version` = ?"
        );
    }

    #[test]
    fn postgres_numbers_its_placeholders() {
        let s = table_sql::<PostgresSql>(&META);
        assert_eq!(
            s.update.as_str(),
            r#"UPDATE "products" SET "version" = $1, "description" = $2 WHERE "sku" = $3 AND "version" = $4"#
        );
        assert_eq!(
            s.insert.as_str(),
            r#"INSERT INTO "products" ("sku", "version", "description") VALUES ($1, $2, $3)"#
        );
    }

    #[test]
    fn batched_updates_are_guarded_by_each_rows_version() {
        let pg = batch_sql::<PostgresSql>(&META, Batch::Update, 2);
        assert_eq!(
            pg.as_str(),
            r#"UPDATE "products" AS t SET "version" = v."version", "description" = v."description" FROM (VALUES ($1::TEXT, $2::BIGINT, $3::BIGINT, $4::TEXT), ($5::TEXT, $6::BIGINT, $7::BIGINT, $8::TEXT)) AS v ("sku", "__uow_expected", "version", "description") WHERE t."sku" = v."sku" AND t."version" = v."__uow_expected""#
        );
        let sqlite = batch_sql::<SqliteSql>(&META, Batch::Update, 2);
        assert_eq!(
            sqlite.as_str(),
            "UPDATE `products` SET `version` = v.column3, `description` = v.column4 FROM (VALUES (?, ?, ?, ?), (?, ?, ?, ?)) AS v WHERE `products`.`sku` = v.column1 AND `products`.`version` = v.column2"
        );
        let mysql = batch_sql::<MySqlSql>(&META, Batch::Update, 2);
        assert_eq!(
            mysql.as_str(),
            "UPDATE `products` AS t JOIN (SELECT ? AS `sku`, ? AS `__uow_expected`, ? AS `version`, ? AS `description` UNION ALL SELECT ?, ?, ?, ?) AS v ON t.`sku` = v.`sku` AND t.`version` = v.`__uow_expected` SET t.`version` = v.`version`, t.`description` = v.`description`"
        );
    }

    #[test]
    fn batch_inserts_and_deletes() {
        assert_eq!(
            batch_sql::<SqliteSql>(&META, Batch::Insert, 2).as_str(),
            "INSERT INTO `products` (`sku`, `version`, `description`) VALUES (?, ?, ?), (?, ?, ?)"
        );
        assert_eq!(
            batch_sql::<PostgresSql>(&META, Batch::Delete, 2).as_str(),
            r#"DELETE FROM "products" WHERE ("sku", "version") IN (($1, $2), ($3, $4))"#
        );
    }

    #[test]
    fn a_padded_insert_skips_its_rows_of_nulls() {
        assert_eq!(
            batch_sql::<SqliteSql>(&META, Batch::PaddedInsert, 2).as_str(),
            "INSERT INTO `products` (`sku`, `version`, `description`) SELECT * FROM (VALUES (?, ?, ?), (?, ?, ?)) AS v WHERE v.column1 IS NOT NULL"
        );
    }

    #[test]
    fn postgres_batches_take_one_array_per_column() {
        let arrays = table_sql::<PostgresSql>(&META)
            .arrays
            .expect("arrays on PostgreSQL");
        assert_eq!(
            arrays.insert.as_str(),
            r#"INSERT INTO "products" ("sku", "version", "description") SELECT u.c1, u.c2, u.c3 FROM UNNEST($1::TEXT[], $2::BIGINT[], $3::TEXT[]) AS u (c1, c2, c3)"#
        );
        assert_eq!(
            arrays.update.as_str(),
            r#"UPDATE "products" AS t SET "version" = u.c3, "description" = u.c4 FROM UNNEST($1::TEXT[], $2::BIGINT[], $3::BIGINT[], $4::TEXT[]) AS u (c1, c2, c3, c4) WHERE t."sku" = u.c1 AND t."version" = u.c2"#
        );
        assert!(table_sql::<SqliteSql>(&META).arrays.is_none());
        assert!(table_sql::<MySqlSql>(&META).arrays.is_none());
    }

    #[test]
    fn mysql_quotes_with_backticks_and_selects_order_by_id() {
        let s = table_sql::<MySqlSql>(&META);
        assert_eq!(
            s.select_by_column[2].as_str(),
            "SELECT `sku`, `version`, `description` FROM `products` WHERE `description` = ? ORDER BY `sku`"
        );
        assert_eq!(
            s.select_all.as_str(),
            "SELECT `sku`, `version`, `description` FROM `products` ORDER BY `sku` LIMIT ?"
        );
    }
}
