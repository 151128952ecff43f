//! The statements of one aggregate in one dialect, built once from its
//! metadata. Values are never part of the text: every one is a bind parameter.

use sqlx::{AssertSqlSafe, SqlStr};
use uow_core::AggregateMeta;

use crate::dialect::Dialect;

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
    /// `DELETE FROM t WHERE id = ? AND version = ?`.
    pub delete: SqlStr,
}

/// Builds the statements of `meta` for `dialect`.
pub fn table_sql(dialect: Dialect, meta: &AggregateMeta) -> TableSql {
    let q = |name: &str| dialect.quote(name);
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
    let order = format!(" ORDER BY {id}");
    let p = |n| dialect.placeholder(n);

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

    TableSql {
        select_by_id: sql(format!("{select} WHERE {id} = {}", p(1))),
        select_all: sql(format!("{select}{order} LIMIT {}", p(1))),
        select_by_column,
        select_by_null,
        insert: sql(format!("INSERT INTO {table} ({columns}) VALUES ({values})")),
        update: sql(format!(
            "UPDATE {table} SET {assignments} WHERE {id} = {} AND {version} = {}",
            p(n + 1),
            p(n + 2)
        )),
        delete: sql(format!(
            "DELETE FROM {table} WHERE {id} = {} AND {version} = {}",
            p(1),
            p(2)
        )),
    }
}

/// The text is built from validated identifiers and placeholders only.
fn sql(text: String) -> SqlStr {
    use sqlx::SqlSafeStr;
    AssertSqlSafe(text).into_sql_str()
}

#[cfg(test)]
mod tests {
    use super::*;
    use uow_core::{ColumnKind, ColumnMeta, ColumnRole};

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
    };

    #[test]
    fn update_and_delete_carry_the_version_check() {
        let s = table_sql(Dialect::Sqlite, &META);
        assert_eq!(
            s.update.as_str(),
            r#"UPDATE "products" SET "version" = ?, "description" = ? WHERE "sku" = ? AND "version" = ?"#
        );
        assert_eq!(
            s.delete.as_str(),
            r#"DELETE FROM "products" WHERE "sku" = ? AND "version" = ?"#
        );
    }

    #[test]
    fn postgres_numbers_its_placeholders() {
        let s = table_sql(Dialect::Postgres, &META);
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
    fn mysql_quotes_with_backticks_and_selects_order_by_id() {
        let s = table_sql(Dialect::MySql, &META);
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
