//! Typed queries (`uow_core::backend::Select`, `Filter`) as SQL: written
//! once over [`Driver`], with what differs per database (ordering of
//! `NULL`s, the collation of text, PostgreSQL's decimals, placeholders)
//! asked of its SQL dialect (`SqlDialect::query_*`, in `driver/<database>/sql.rs`).
//!
//! Every value is a bind parameter (the limit, a number uow chooses, is
//! written into the text); the text depends only on the query's shape and
//! limit, so the driver's statement cache prepares each once per
//! connection. The semantics are `uow_core::query`'s, which the in-memory
//! store follows: `NULL`s first ascending and last descending, ties by id,
//! comparisons never matching `NULL`.

use std::fmt::Write;

use uow_core::backend::{AggregateMeta, ColumnKind, CompareOp, Filter, Loaded, Select, Value};
use uow_core::{Aggregate, Error};

use crate::dialect::SqlDialect;
use crate::driver::{self, Conn, Driver, Stmt};
use crate::sql::TableSql;

/// A statement's text and the values to bind, each with its column.
struct Sql {
    text: String,
    params: Vec<(usize, Value)>,
}

impl Sql {
    fn new(text: String) -> Self {
        Sql {
            text,
            params: Vec::new(),
        }
    }

    /// The placeholder of a new parameter holding `value` of `column`.
    fn param<D: Driver>(&mut self, column: usize, value: Value) -> String {
        self.params.push((column, value));
        <D::Sql as SqlDialect>::placeholder(self.params.len())
    }

    fn bind<D: Driver>(self, meta: &'static AggregateMeta) -> Result<Stmt<D>, Error> {
        let mut stmt = sqlx::query(sqlx::AssertSqlSafe(self.text));
        for (column, value) in self.params {
            stmt = driver::bind_value::<D>(stmt, meta, column, value)?;
        }
        Ok(stmt)
    }
}

/// Appends the `WHERE` condition of `filter`.
fn condition<D: Driver>(sql: &mut Sql, meta: &'static AggregateMeta, filter: &Filter) {
    let column = |index: usize| <D::Sql as SqlDialect>::quote(meta.columns[index].name);
    let kind = |index: usize| meta.columns[index].kind;
    match filter {
        Filter::All => sql.text.push_str("1 = 1"),
        Filter::Nothing => sql.text.push_str("1 = 0"),
        Filter::Compare {
            column: index,
            op,
            value,
        } => {
            let placeholder = sql.param::<D>(*index, value.clone());
            let left = <D::Sql as SqlDialect>::query_operand(&column(*index), kind(*index), *op);
            let right = <D::Sql as SqlDialect>::query_parameter(&placeholder, kind(*index));
            let _ = write!(sql.text, "{left} {} {right}", op.sql());
        }
        Filter::In {
            column: index,
            values,
        } => {
            let left =
                <D::Sql as SqlDialect>::query_operand(&column(*index), kind(*index), CompareOp::Eq);
            let _ = write!(sql.text, "{left} IN (");
            for (n, value) in values.iter().enumerate() {
                if n > 0 {
                    sql.text.push_str(", ");
                }
                let placeholder = sql.param::<D>(*index, value.clone());
                let right = <D::Sql as SqlDialect>::query_parameter(&placeholder, kind(*index));
                sql.text.push_str(&right);
            }
            sql.text.push(')');
        }
        Filter::IsNull { column: index } => {
            let _ = write!(sql.text, "{} IS NULL", column(*index));
        }
        Filter::IsNotNull { column: index } => {
            let _ = write!(sql.text, "{} IS NOT NULL", column(*index));
        }
        Filter::And(filters) | Filter::Or(filters) => {
            let joint = if matches!(filter, Filter::And(_)) {
                " AND "
            } else {
                " OR "
            };
            sql.text.push('(');
            for (n, inner) in filters.iter().enumerate() {
                if n > 0 {
                    sql.text.push_str(joint);
                }
                condition::<D>(sql, meta, inner);
            }
            if filters.is_empty() {
                sql.text
                    .push_str(if joint == " AND " { "1 = 1" } else { "1 = 0" });
            }
            sql.text.push(')');
        }
    }
}

/// `SELECT <columns> FROM t WHERE .. ORDER BY <terms>, id LIMIT ?`.
fn select_sql<D: Driver>(meta: &'static AggregateMeta, select: &Select) -> Sql {
    let q = |name: &str| <D::Sql as SqlDialect>::quote(name);
    let columns = meta
        .columns
        .iter()
        .map(|c| q(c.name))
        .collect::<Vec<_>>()
        .join(", ");
    let mut sql = Sql::new(format!("SELECT {columns} FROM {}", q(meta.table)));
    if select.filter != Filter::All {
        sql.text.push_str(" WHERE ");
        condition::<D>(&mut sql, meta, &select.filter);
    }
    sql.text.push_str(" ORDER BY ");
    for term in &select.order {
        let column = &meta.columns[term.column];
        sql.text.push_str(&<D::Sql as SqlDialect>::query_order(
            &q(column.name),
            column.kind,
            column.nullable,
            term.descending,
        ));
        sql.text.push_str(", ");
    }
    let id = meta.id_column();
    sql.text.push_str(&<D::Sql as SqlDialect>::query_order(
        &q(id.name),
        id.kind,
        false,
        false,
    ));
    // The limit is a number uow chose (no value of the domain's), written
    // into the text: the databases plan a top-N sort for a known limit.
    if let Some(limit) = select.limit {
        let _ = write!(sql.text, " LIMIT {}", limit.min(i64::MAX as u64));
    }
    sql
}

/// Everything the text of `select` depends on — its limit, its ordering
/// terms, the tree of its filter with columns, operators and the lengths
/// of `IN` lists — and nothing of its values: two queries of one shape run
/// one statement text.
fn shape(select: &Select) -> Vec<u64> {
    let mut key = Vec::with_capacity(8 + select.order.len());
    key.push(u64::from(select.limit.is_some()));
    key.push(select.limit.unwrap_or(0));
    key.push(select.order.len() as u64);
    key.extend(
        select
            .order
            .iter()
            .map(|term| (term.column as u64) << 1 | u64::from(term.descending)),
    );
    filter_shape(&select.filter, &mut key);
    key
}

fn filter_shape(filter: &Filter, key: &mut Vec<u64>) {
    match filter {
        Filter::All => key.push(0),
        Filter::Nothing => key.push(1),
        Filter::Compare { column, op, .. } => {
            let op = match op {
                CompareOp::Eq => 0,
                CompareOp::Lt => 1,
                CompareOp::Le => 2,
                CompareOp::Gt => 3,
                CompareOp::Ge => 4,
            };
            key.extend([2, *column as u64, op]);
        }
        Filter::In { column, values } => key.extend([3, *column as u64, values.len() as u64]),
        Filter::IsNull { column } => key.extend([4, *column as u64]),
        Filter::IsNotNull { column } => key.extend([5, *column as u64]),
        Filter::And(filters) | Filter::Or(filters) => {
            let tag = if matches!(filter, Filter::And(_)) {
                6
            } else {
                7
            };
            key.extend([tag, filters.len() as u64]);
            for inner in filters {
                filter_shape(inner, key);
            }
        }
    }
}

/// Binds the values of `filter`, each with its column, in the order
/// [`condition`] places their parameters.
fn bind_filter<D: Driver>(
    mut stmt: Stmt<D>,
    meta: &'static AggregateMeta,
    filter: &Filter,
) -> Result<Stmt<D>, Error> {
    match filter {
        Filter::All | Filter::Nothing | Filter::IsNull { .. } | Filter::IsNotNull { .. } => {}
        Filter::Compare { column, value, .. } => {
            stmt = driver::bind_value::<D>(stmt, meta, *column, value.clone())?;
        }
        Filter::In { column, values } => {
            for value in values {
                stmt = driver::bind_value::<D>(stmt, meta, *column, value.clone())?;
            }
        }
        Filter::And(filters) | Filter::Or(filters) => {
            for inner in filters {
                stmt = bind_filter::<D>(stmt, meta, inner)?;
            }
        }
    }
    Ok(stmt)
}

/// Loads the aggregates a typed query matches, in its order, each with its
/// row when it can be the snapshot (see `driver::decode_rows`); the
/// statement text is `table`'s, built once per shape.
pub(crate) async fn fetch<D: Driver, A: Aggregate>(
    conn: &mut Conn<D>,
    table: &TableSql,
    select: &Select,
) -> Result<Vec<Loaded<A>>, Error> {
    let meta = A::META;
    let text = table.query(shape(select), || select_sql::<D>(meta, select).text);
    let stmt = bind_filter::<D>(sqlx::query(text), meta, &select.filter)?;
    let rows = D::fetch_all(conn, stmt)
        .await
        .map_err(|e| driver::backend::<D>(format!("query {}", meta.table), e))?;
    driver::decode_rows::<D, A>(&rows)
}

/// Counts the rows of `A`'s table that `filter` matches.
pub(crate) async fn count<D: Driver, A: Aggregate>(
    conn: &mut Conn<D>,
    filter: &Filter,
) -> Result<u64, Error> {
    let meta = A::META;
    let mut sql = Sql::new(format!(
        "SELECT COUNT(*) FROM {}",
        <D::Sql as SqlDialect>::quote(meta.table)
    ));
    if *filter != Filter::All {
        sql.text.push_str(" WHERE ");
        condition::<D>(&mut sql, meta, filter);
    }
    let stmt = sql.bind::<D>(meta)?;
    let failed = |e| driver::backend::<D>(format!("count {}", meta.table), e);
    let rows = D::fetch_all(conn, stmt).await.map_err(failed)?;
    let count = match rows.first().map(|row| D::get(row, 0, ColumnKind::BigInt)) {
        Some(Ok(Value::Int(n))) => u64::try_from(n).unwrap_or(0),
        Some(Ok(other)) => {
            return Err(Error::Backend(uow_core::BackendError::new(
                format!("count {}", meta.table),
                format!("COUNT(*) gave {}", other.kind_name()),
            )));
        }
        Some(Err(e)) => {
            return Err(Error::Backend(uow_core::BackendError::new(
                format!("count {}", meta.table),
                e,
            )));
        }
        None => 0,
    };
    Ok(count)
}

#[cfg(all(test, any(feature = "sqlite", feature = "postgres")))]
mod tests {
    use super::*;
    use uow_core::backend::{ColumnMeta, ColumnRole, OrderTerm};

    static COLUMNS: [ColumnMeta; 3] = [
        ColumnMeta {
            name: "id",
            field: "id",
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
            name: "rank",
            field: "rank",
            kind: ColumnKind::BigInt,
            nullable: true,
            role: ColumnRole::Plain,
        },
    ];

    static META: AggregateMeta = AggregateMeta {
        name: "Item",
        table: "items",
        columns: &COLUMNS,
        id: 0,
        version: 1,
        indexes: &[],
        children: &[],
    };

    fn select() -> Select {
        Select {
            filter: Filter::And(vec![
                Filter::Compare {
                    column: 2,
                    op: CompareOp::Ge,
                    value: Value::Int(1),
                },
                Filter::Or(vec![
                    Filter::IsNull { column: 2 },
                    Filter::In {
                        column: 0,
                        values: vec![Value::Text("a".into()), Value::Text("b".into())],
                    },
                ]),
            ]),
            order: vec![OrderTerm {
                column: 2,
                descending: true,
            }],
            limit: Some(10),
        }
    }

    /// `select()` with its first condition replaced.
    fn with_first(condition: Filter) -> Select {
        let mut select = select();
        if let Filter::And(filters) = &mut select.filter {
            filters[0] = condition;
        }
        select
    }

    #[test]
    fn queries_of_one_shape_share_a_text_whatever_their_values() {
        let other_value = with_first(Filter::Compare {
            column: 2,
            op: CompareOp::Ge,
            value: Value::Int(7),
        });
        assert_eq!(shape(&select()), shape(&other_value));

        let other_operator = with_first(Filter::Compare {
            column: 2,
            op: CompareOp::Gt,
            value: Value::Int(1),
        });
        let other_column = with_first(Filter::Compare {
            column: 1,
            op: CompareOp::Ge,
            value: Value::Int(1),
        });
        let longer_list = with_first(Filter::In {
            column: 0,
            values: vec![Value::Text("a".into()); 3],
        });
        let mut other_limit = select();
        other_limit.limit = Some(11);
        let mut no_limit = select();
        no_limit.limit = None;
        let mut ascending = select();
        ascending.order[0].descending = false;
        let mut unordered = select();
        unordered.order.clear();
        let mut either = select();
        if let Filter::And(filters) = either.filter {
            either.filter = Filter::Or(filters);
        }
        for other in [
            other_operator,
            other_column,
            longer_list,
            other_limit,
            no_limit,
            ascending,
            unordered,
            either,
        ] {
            assert_ne!(shape(&select()), shape(&other), "{other:?}");
        }
    }

    #[cfg(feature = "sqlite")]
    #[test]
    fn a_query_is_one_statement_with_every_value_bound_on_sqlite() {
        let sql = select_sql::<crate::driver::sqlite::SqliteDriver>(&META, &select());
        assert_eq!(
            sql.text,
            "SELECT `id`, `version`, `rank` FROM `items` WHERE (`rank` >= ? AND (`rank` IS NULL OR `id` IN (?, ?))) ORDER BY `rank` DESC, `id` ASC LIMIT 10"
        );
        assert_eq!(sql.params.len(), 3);
    }

    #[cfg(feature = "postgres")]
    #[test]
    fn postgres_orders_nulls_and_text_explicitly() {
        let sql = select_sql::<crate::driver::postgres::PostgresDriver>(&META, &select());
        assert_eq!(
            sql.text,
            "SELECT \"id\", \"version\", \"rank\" FROM \"items\" WHERE (\"rank\" >= $1 AND (\"rank\" IS NULL OR \"id\" IN ($2, $3))) ORDER BY \"rank\" DESC NULLS LAST, \"id\" COLLATE \"C\" ASC LIMIT 10"
        );
    }
}
