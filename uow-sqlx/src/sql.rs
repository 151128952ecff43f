//! The statements of one aggregate in one dialect, built once from its
//! metadata. Values are never part of the text: every one is a bind parameter.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use sqlx::{AssertSqlSafe, SqlStr};
use uow_core::backend::{AggregateMeta, ColumnKind};

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
    /// PostgreSQL: batch statements that take each column as one array
    /// parameter, so one text (prepared once) serves any number of rows.
    pub arrays: Option<ArraySql>,
    dialect: Dialect,
    /// Batch statements by kind and row count, built on first use.
    batches: Mutex<HashMap<(Batch, usize), SqlStr>>,
}

/// PostgreSQL's batch statements over whole columns (`UNNEST` of one array
/// parameter per column): one statement, and one round trip, per batch of
/// any size, where a `VALUES` list needs a statement text per row count and
/// a parameter per value.
#[derive(Debug)]
pub struct ArraySql {
    /// `INSERT INTO t (<columns>) SELECT ... FROM UNNEST($1::T[], ...)`:
    /// binds one array per column.
    pub insert: SqlStr,
    /// `UPDATE t SET ... FROM UNNEST(<ids>, <expected versions>, <non-id
    /// columns>) AS u WHERE t.id = u.id AND t.version = u.expected`: binds
    /// the arrays in that order.
    pub update: SqlStr,
    /// `SELECT id, version FROM t WHERE id = ANY($1) ORDER BY id FOR
    /// UPDATE`: binds the array of ids.
    pub lock: SqlStr,
}

/// The array type a column of `kind` is bound as on PostgreSQL, and the cast
/// from its elements to the column's type where they differ (JSON and
/// decimals travel as text; integers of every width as BIGINT, which the
/// assignment to a narrower column checks).
pub fn postgres_array_type(kind: ColumnKind) -> (&'static str, Option<&'static str>) {
    match kind {
        ColumnKind::Bool => ("BOOLEAN[]", None),
        ColumnKind::SmallInt | ColumnKind::Int | ColumnKind::BigInt => ("BIGINT[]", None),
        ColumnKind::Real | ColumnKind::Double => ("DOUBLE PRECISION[]", None),
        ColumnKind::Bytes => ("BYTEA[]", None),
        ColumnKind::Json => ("TEXT[]", Some("JSONB")),
        ColumnKind::Uuid => ("UUID[]", None),
        ColumnKind::TimestampTz => ("TIMESTAMPTZ[]", None),
        ColumnKind::Timestamp => ("TIMESTAMP[]", None),
        ColumnKind::Date => ("DATE[]", None),
        ColumnKind::Time => ("TIME[]", None),
        ColumnKind::Decimal | ColumnKind::FixedDecimal { .. } => ("TEXT[]", Some("NUMERIC")),
        _ => ("TEXT[]", None),
    }
}

/// PostgreSQL's array statements of `meta`.
fn array_sql(meta: &AggregateMeta) -> ArraySql {
    let dialect = Dialect::Postgres;
    let q = |name: &str| dialect.quote(name);
    let table = q(meta.table);
    let id = q(meta.id_column().name);
    let version = q(meta.version_column().name);
    // `$n::T[]`, and the element `u.cn`, cast where needed.
    let parameter = |n: usize, kind: ColumnKind| format!("${n}::{}", postgres_array_type(kind).0);
    let element = |n: usize, kind: ColumnKind| match postgres_array_type(kind).1 {
        Some(cast) => format!("u.c{n}::{cast}"),
        None => format!("u.c{n}"),
    };
    let aliases = |count: usize| {
        (1..=count)
            .map(|n| format!("c{n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };

    let columns: Vec<String> = meta.columns.iter().map(|c| q(c.name)).collect();
    let kinds: Vec<ColumnKind> = meta.columns.iter().map(|c| c.kind).collect();
    let insert = format!(
        "INSERT INTO {table} ({}) SELECT {} FROM UNNEST({}) AS u ({})",
        columns.join(", "),
        (1..=kinds.len())
            .map(|n| element(n, kinds[n - 1]))
            .collect::<Vec<_>>()
            .join(", "),
        (1..=kinds.len())
            .map(|n| parameter(n, kinds[n - 1]))
            .collect::<Vec<_>>()
            .join(", "),
        aliases(kinds.len()),
    );

    // Update arrays: id, expected version, then the non-id columns.
    let id_kind = meta.id_column().kind;
    let others: Vec<_> = meta
        .columns
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != meta.id)
        .map(|(_, c)| c)
        .collect();
    let update_kinds: Vec<ColumnKind> = [id_kind, ColumnKind::BigInt]
        .into_iter()
        .chain(others.iter().map(|c| c.kind))
        .collect();
    let sets: Vec<String> = others
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{} = {}", q(c.name), element(i + 3, c.kind)))
        .collect();
    let update = format!(
        "UPDATE {table} AS t SET {} FROM UNNEST({}) AS u ({}) WHERE t.{id} = {} AND t.{version} = u.c2",
        sets.join(", "),
        (1..=update_kinds.len())
            .map(|n| parameter(n, update_kinds[n - 1]))
            .collect::<Vec<_>>()
            .join(", "),
        aliases(update_kinds.len()),
        element(1, id_kind),
    );

    let (array, cast) = postgres_array_type(id_kind);
    let ids = match cast {
        Some(cast) => format!("$1::{array}::{cast}[]"),
        None => format!("$1::{array}"),
    };
    let lock = format!(
        "SELECT {id}, {version} FROM {table} WHERE {id} = ANY({ids}) ORDER BY {} FOR UPDATE",
        order_by_id(dialect, meta)
    );
    ArraySql {
        insert: sql(insert),
        update: sql(update),
        lock: sql(lock),
    }
}

impl TableSql {
    /// The batch statement over `rows` rows (built once per size).
    pub fn batch(&self, meta: &AggregateMeta, batch: Batch, rows: usize) -> SqlStr {
        let mut batches = self.batches.lock().unwrap_or_else(PoisonError::into_inner);
        batches
            .entry((batch, rows))
            .or_insert_with(|| batch_sql(self.dialect, meta, batch, rows))
            .clone()
    }
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
    let order = format!(" ORDER BY {}", order_by_id(dialect, meta));
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
        arrays: (dialect == Dialect::Postgres).then(|| array_sql(meta)),
        dialect,
        batches: Mutex::new(HashMap::new()),
    }
}

/// `"id"`, with a byte-order collation for text ids on PostgreSQL (whose
/// default collation may follow the locale), so every backend orders ids the
/// way the in-memory store does.
fn order_by_id(dialect: Dialect, meta: &AggregateMeta) -> String {
    let id = dialect.quote(meta.id_column().name);
    if dialect == Dialect::Postgres && meta.id_column().kind == ColumnKind::Text {
        format!("{id} COLLATE \"C\"")
    } else {
        id
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
    /// `SELECT id, version ... WHERE id IN (...) ORDER BY id FOR UPDATE`:
    /// locks the rows in id order and reads their versions; binds ids.
    Lock,
}

impl Batch {
    /// Bind parameters per row.
    pub fn parameters_per_row(self, meta: &AggregateMeta) -> usize {
        match self {
            Batch::Insert | Batch::PaddedInsert => meta.columns.len(),
            Batch::Update => meta.columns.len() + 1,
            Batch::Delete => 2,
            Batch::Lock => 1,
        }
    }
}

/// The text of a batch statement over `rows` rows.
pub fn batch_sql(dialect: Dialect, meta: &AggregateMeta, batch: Batch, rows: usize) -> SqlStr {
    let q = |name: &str| dialect.quote(name);
    let table = q(meta.table);
    let id = q(meta.id_column().name);
    let version = q(meta.version_column().name);
    let per_row = batch.parameters_per_row(meta);
    let mut n = 0;
    let mut next = || {
        n += 1;
        dialect.placeholder(n)
    };
    let tuples = |next: &mut dyn FnMut() -> String, typed: &dyn Fn(usize) -> Option<String>| {
        (0..rows)
            .map(|_| {
                let values: Vec<String> = (0..per_row)
                    .map(|i| match typed(i) {
                        Some(ty) => format!("{}::{ty}", next()),
                        None => next(),
                    })
                    .collect();
                format!("({})", values.join(", "))
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let untyped = |_: usize| None;
    // The non-id columns, in the order their values are bound for updates.
    let others: Vec<_> = meta
        .columns
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != meta.id)
        .map(|(_, c)| c)
        .collect();
    let text = match batch {
        Batch::Insert => {
            let columns: Vec<_> = meta.columns.iter().map(|c| q(c.name)).collect();
            format!(
                "INSERT INTO {table} ({}) VALUES {}",
                columns.join(", "),
                tuples(&mut next, &untyped)
            )
        }
        Batch::PaddedInsert => {
            let columns: Vec<_> = meta.columns.iter().map(|c| q(c.name)).collect();
            match dialect {
                Dialect::Sqlite | Dialect::Postgres => format!(
                    "INSERT INTO {table} ({}) SELECT * FROM (VALUES {}) AS v WHERE v.column{} IS NOT NULL",
                    columns.join(", "),
                    tuples(&mut next, &untyped),
                    meta.id + 1
                ),
                Dialect::MySql => {
                    let first: Vec<String> =
                        columns.iter().map(|name| format!("? AS {name}")).collect();
                    let mut selects = vec![format!("SELECT {}", first.join(", "))];
                    selects.extend(
                        (1..rows).map(|_| format!("SELECT {}", vec!["?"; per_row].join(", "))),
                    );
                    format!(
                        "INSERT INTO {table} ({}) SELECT * FROM ({}) AS v WHERE v.{id} IS NOT NULL",
                        columns.join(", "),
                        selects.join(" UNION ALL ")
                    )
                }
            }
        }
        Batch::Delete => format!(
            "DELETE FROM {table} WHERE ({id}, {version}) IN ({})",
            tuples(&mut next, &untyped)
        ),
        Batch::Lock => {
            let ids: Vec<String> = (0..rows).map(|_| next()).collect();
            let lock = if dialect == Dialect::Sqlite {
                ""
            } else {
                " FOR UPDATE"
            };
            format!(
                "SELECT {id}, {version} FROM {table} WHERE {id} IN ({}) ORDER BY {}{lock}",
                ids.join(", "),
                order_by_id(dialect, meta)
            )
        }
        Batch::Update => match dialect {
            Dialect::Postgres => {
                // Parameters are cast to the column types: a VALUES list
                // takes its types from its contents, not from the table.
                let kinds: Vec<ColumnKind> = std::iter::once(meta.id_column().kind)
                    .chain(std::iter::once(ColumnKind::BigInt))
                    .chain(others.iter().map(|c| c.kind))
                    .collect();
                let typed = |i: usize| Some(dialect.column_type(kinds[i]).into_owned());
                let names: Vec<String> = std::iter::once(id.clone())
                    .chain(std::iter::once(q(EXPECTED)))
                    .chain(others.iter().map(|c| q(c.name)))
                    .collect();
                let sets: Vec<String> = others
                    .iter()
                    .map(|c| format!("{0} = v.{0}", q(c.name)))
                    .collect();
                format!(
                    "UPDATE {table} AS t SET {} FROM (VALUES {}) AS v ({}) WHERE t.{id} = v.{id} AND t.{version} = v.{}",
                    sets.join(", "),
                    tuples(&mut next, &typed),
                    names.join(", "),
                    q(EXPECTED)
                )
            }
            Dialect::Sqlite => {
                let sets: Vec<String> = others
                    .iter()
                    .enumerate()
                    .map(|(i, c)| format!("{} = v.column{}", q(c.name), i + 3))
                    .collect();
                format!(
                    "UPDATE {table} SET {} FROM (VALUES {}) AS v WHERE {table}.{id} = v.column1 AND {table}.{version} = v.column2",
                    sets.join(", "),
                    tuples(&mut next, &untyped)
                )
            }
            Dialect::MySql => {
                let names: Vec<String> = std::iter::once(id.clone())
                    .chain(std::iter::once(q(EXPECTED)))
                    .chain(others.iter().map(|c| q(c.name)))
                    .collect();
                let first: Vec<String> = names.iter().map(|name| format!("? AS {name}")).collect();
                let mut selects = vec![format!("SELECT {}", first.join(", "))];
                selects
                    .extend((1..rows).map(|_| format!("SELECT {}", vec!["?"; per_row].join(", "))));
                let sets: Vec<String> = others
                    .iter()
                    .map(|c| format!("t.{0} = v.{0}", q(c.name)))
                    .collect();
                format!(
                    "UPDATE {table} AS t JOIN ({}) AS v ON t.{id} = v.{id} AND t.{version} = v.{} SET {}",
                    selects.join(" UNION ALL "),
                    q(EXPECTED),
                    sets.join(", ")
                )
            }
        },
    };
    sql(text)
}

/// The name of the expected-version column of an update's values list.
const EXPECTED: &str = "__uow_expected";

/// The text is built from validated identifiers and placeholders only.
fn sql(text: String) -> SqlStr {
    use sqlx::SqlSafeStr;
    AssertSqlSafe(text).into_sql_str()
}

#[cfg(test)]
mod tests {
    use super::*;
    use uow_core::backend::{ColumnMeta, ColumnRole};

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
        children: &[],
    };

    #[test]
    fn update_and_delete_carry_the_version_check() {
        let s = table_sql(Dialect::Sqlite, &META);
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
    fn batched_updates_are_guarded_by_each_rows_version() {
        let pg = batch_sql(Dialect::Postgres, &META, Batch::Update, 2);
        assert_eq!(
            pg.as_str(),
            r#"UPDATE "products" AS t SET "version" = v."version", "description" = v."description" FROM (VALUES ($1::TEXT, $2::BIGINT, $3::BIGINT, $4::TEXT), ($5::TEXT, $6::BIGINT, $7::BIGINT, $8::TEXT)) AS v ("sku", "__uow_expected", "version", "description") WHERE t."sku" = v."sku" AND t."version" = v."__uow_expected""#
        );
        let sqlite = batch_sql(Dialect::Sqlite, &META, Batch::Update, 2);
        assert_eq!(
            sqlite.as_str(),
            "UPDATE `products` SET `version` = v.column3, `description` = v.column4 FROM (VALUES (?, ?, ?, ?), (?, ?, ?, ?)) AS v WHERE `products`.`sku` = v.column1 AND `products`.`version` = v.column2"
        );
        let mysql = batch_sql(Dialect::MySql, &META, Batch::Update, 2);
        assert_eq!(
            mysql.as_str(),
            "UPDATE `products` AS t JOIN (SELECT ? AS `sku`, ? AS `__uow_expected`, ? AS `version`, ? AS `description` UNION ALL SELECT ?, ?, ?, ?) AS v ON t.`sku` = v.`sku` AND t.`version` = v.`__uow_expected` SET t.`version` = v.`version`, t.`description` = v.`description`"
        );
    }

    #[test]
    fn batch_inserts_deletes_and_locks() {
        assert_eq!(
            batch_sql(Dialect::Sqlite, &META, Batch::Insert, 2).as_str(),
            "INSERT INTO `products` (`sku`, `version`, `description`) VALUES (?, ?, ?), (?, ?, ?)"
        );
        assert_eq!(
            batch_sql(Dialect::Postgres, &META, Batch::Delete, 2).as_str(),
            r#"DELETE FROM "products" WHERE ("sku", "version") IN (($1, $2), ($3, $4))"#
        );
        assert_eq!(
            batch_sql(Dialect::Postgres, &META, Batch::Lock, 3).as_str(),
            r#"SELECT "sku", "version" FROM "products" WHERE "sku" IN ($1, $2, $3) ORDER BY "sku" COLLATE "C" FOR UPDATE"#
        );
    }

    #[test]
    fn a_padded_insert_skips_its_rows_of_nulls() {
        assert_eq!(
            batch_sql(Dialect::Sqlite, &META, Batch::PaddedInsert, 2).as_str(),
            "INSERT INTO `products` (`sku`, `version`, `description`) SELECT * FROM (VALUES (?, ?, ?), (?, ?, ?)) AS v WHERE v.column1 IS NOT NULL"
        );
    }

    #[test]
    fn postgres_batches_take_one_array_per_column() {
        let arrays = table_sql(Dialect::Postgres, &META)
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
        assert_eq!(
            arrays.lock.as_str(),
            r#"SELECT "sku", "version" FROM "products" WHERE "sku" = ANY($1::TEXT[]) ORDER BY "sku" COLLATE "C" FOR UPDATE"#
        );
        assert!(table_sql(Dialect::Sqlite, &META).arrays.is_none());
        assert!(table_sql(Dialect::MySql, &META).arrays.is_none());
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
