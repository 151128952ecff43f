//! (7) and (8): an aggregate in three tables — a product with 10 batches ×
//! 10 allocations (child tables `bench_batches`, `bench_allocations`) —
//! loaded, and changed in one allocation, through uow and through
//! hand-written sqlx with the same statements: one `SELECT` per table, and
//! for the change the root's version-checked `UPDATE` plus one `UPDATE` of
//! the allocation, in uow's transaction boundaries.

use std::collections::HashMap;

use sqlx::Connection;
use uow_core::{Aggregate, Entity, Error, Store, unit_of_work};

use crate::backends::{Database, Pool};
use crate::handwritten::BoxError;

/// Products stored (the benchmarks cycle through them).
pub const PRODUCTS: usize = 100;
const BATCHES: usize = 10;
const ALLOCATIONS: usize = 10;

/// The root: its batches in a child table.
#[derive(Aggregate, Clone, Debug, PartialEq)]
#[aggregate(table = "bench_products")]
pub struct Product {
    #[aggregate(id)]
    pub sku: String,
    #[aggregate(version)]
    pub version: i64,
    pub description: String,
    #[aggregate(children)]
    pub batches: Vec<Batch>,
}

/// A child: its allocations in a grandchild table.
#[derive(Entity, Clone, Debug, PartialEq)]
#[entity(table = "bench_batches")]
pub struct Batch {
    #[entity(id)]
    pub reference: String,
    pub quantity: i64,
    #[entity(children)]
    pub allocations: Vec<Allocation>,
}

/// A grandchild.
#[derive(Entity, Clone, Debug, PartialEq)]
#[entity(table = "bench_allocations")]
pub struct Allocation {
    #[entity(id)]
    pub orderid: String,
    pub quantity: i64,
}

/// The unit of work of (7) and (8).
#[unit_of_work]
pub struct Stock {
    pub products: Product,
}

pub fn sku(n: usize) -> String {
    format!("SKU-{:04}", n % PRODUCTS)
}

fn product(n: usize) -> Product {
    Product {
        sku: sku(n),
        version: 0,
        description: format!("Product number {n}"),
        batches: (0..BATCHES)
            .map(|b| Batch {
                reference: format!("batch-{n}-{b}"),
                quantity: 100,
                allocations: (0..ALLOCATIONS)
                    .map(|a| Allocation {
                        orderid: format!("order-{b}-{a}"),
                        quantity: 1,
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// Creates the three tables afresh (uow's DDL) and stores the products.
pub async fn setup(db: &Database) -> Result<(), BoxError> {
    for table in ["bench_allocations", "bench_batches", "bench_products"] {
        db.execute(&format!("DROP TABLE IF EXISTS {table}")).await?;
    }
    db.marked.create_tables(&[Product::META]).await?;
    let mut uow = Stock::begin(&db.store).await?;
    for n in 0..PRODUCTS {
        uow.products.add(product(n))?;
    }
    uow.commit().await?;
    Ok(())
}

/// (7) through uow: loads one product, then drops the unit of work.
pub async fn uow_load<S: Store>(store: &S, n: usize) -> Result<usize, Error> {
    let mut uow = Stock::begin(store).await?;
    let product = uow.products.get(&sku(n)).await?.ok_or(Error::NotFound {
        aggregate: "Product",
        id: sku(n),
    })?;
    Ok(product.batches.len())
}

/// (8) through uow: loads one product, changes one allocation, commits.
pub async fn uow_change<S: Store>(store: &S, n: usize) -> Result<(), Error> {
    let mut uow = Stock::begin(store).await?;
    let product = uow.products.get(&sku(n)).await?.ok_or(Error::NotFound {
        aggregate: "Product",
        id: sku(n),
    })?;
    product.batches[3].allocations[7].quantity += 1;
    uow.commit().await?;
    Ok(())
}

/// The statements of one dialect.
struct Sql {
    product: &'static str,
    batches: &'static str,
    allocations: &'static str,
    update_product: &'static str,
    update_allocation: &'static str,
}

const QUESTION_MARKS: Sql = Sql {
    product: "SELECT sku, version, description FROM bench_products WHERE sku = ?",
    batches: "SELECT position, reference, quantity FROM bench_batches WHERE root_id = ?",
    allocations: "SELECT parent_id, position, orderid, quantity FROM bench_allocations WHERE root_id = ?",
    update_product: "UPDATE bench_products SET version = ?, description = ? WHERE sku = ? AND version = ?",
    update_allocation: "UPDATE bench_allocations SET position = ?, quantity = ? WHERE root_id = ? AND orderid = ?",
};

const POSTGRES: Sql = Sql {
    product: "SELECT sku, version, description FROM bench_products WHERE sku = $1",
    batches: "SELECT position, reference, quantity FROM bench_batches WHERE root_id = $1",
    allocations: "SELECT parent_id, position, orderid, quantity FROM bench_allocations WHERE root_id = $1",
    update_product: "UPDATE bench_products SET version = $1, description = $2 WHERE sku = $3 AND version = $4",
    update_allocation: "UPDATE bench_allocations SET position = $1, quantity = $2 WHERE root_id = $3 AND orderid = $4",
};

/// Builds the product from its three tables' rows, children in position
/// order.
fn assemble(
    (sku, version, description): (String, i64, String),
    mut batches: Vec<(i64, String, i64)>,
    mut allocations: Vec<(String, i64, String, i64)>,
) -> Product {
    batches.sort_by_key(|b| b.0);
    allocations.sort_by_key(|a| a.1);
    let mut by_batch: HashMap<String, Vec<Allocation>> = HashMap::new();
    for (parent, _, orderid, quantity) in allocations {
        by_batch
            .entry(parent)
            .or_default()
            .push(Allocation { orderid, quantity });
    }
    Product {
        sku,
        version,
        description,
        batches: batches
            .into_iter()
            .map(|(_, reference, quantity)| Batch {
                allocations: by_batch.remove(&reference).unwrap_or_default(),
                reference,
                quantity,
            })
            .collect(),
    }
}

macro_rules! handwritten {
    ($module:ident, $db:ty) => {
        mod $module {
            use super::*;
            type DbConn = <$db as sqlx::Database>::Connection;

            pub async fn load(
                conn: &mut DbConn,
                sql: &Sql,
                sku: &str,
            ) -> Result<Product, BoxError> {
                let root: (String, i64, String) = sqlx::query_as(sql.product)
                    .bind(sku)
                    .fetch_optional(&mut *conn)
                    .await?
                    .ok_or("no such product")?;
                let batches: Vec<(i64, String, i64)> = sqlx::query_as(sql.batches)
                    .bind(sku)
                    .fetch_all(&mut *conn)
                    .await?;
                let allocations: Vec<(String, i64, String, i64)> = sqlx::query_as(sql.allocations)
                    .bind(sku)
                    .fetch_all(&mut *conn)
                    .await?;
                Ok(assemble(root, batches, allocations))
            }

            /// The root's version-checked update and the allocation's.
            pub async fn write(
                conn: &mut DbConn,
                sql: &Sql,
                product: &Product,
                batch: usize,
                allocation: usize,
            ) -> Result<(), BoxError> {
                let done = sqlx::query(sql.update_product)
                    .bind(product.version)
                    .bind(&product.description)
                    .bind(&product.sku)
                    .bind(product.version - 1)
                    .execute(&mut *conn)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err("the product was changed by someone else".into());
                }
                let a = &product.batches[batch].allocations[allocation];
                sqlx::query(sql.update_allocation)
                    .bind(allocation as i64)
                    .bind(a.quantity)
                    .bind(&product.sku)
                    .bind(&a.orderid)
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            }
        }
    };
}

handwritten!(sqlite, sqlx::Sqlite);
handwritten!(postgres, sqlx::Postgres);
handwritten!(mysql, sqlx::MySql);

/// (7) and (8) in hand-written sqlx, in uow's transaction boundaries: on
/// SQLite one connection, reads in autocommit and the writes in `BEGIN
/// IMMEDIATE`; on PostgreSQL and MariaDB one READ COMMITTED transaction.
pub async fn handwritten(pool: &Pool, n: usize, change: bool) -> Result<(), BoxError> {
    let sku = sku(n);
    let (b, a) = (3, 7);
    let bump = |p: &mut Product| {
        p.batches[b].allocations[a].quantity += 1;
        p.version += 1;
    };
    match pool {
        Pool::Sqlite(pool) => {
            let mut conn = pool.acquire().await?;
            let mut product = sqlite::load(&mut conn, &QUESTION_MARKS, &sku).await?;
            if change {
                bump(&mut product);
                let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
                sqlite::write(&mut tx, &QUESTION_MARKS, &product, b, a).await?;
                tx.commit().await?;
            }
        }
        Pool::Postgres(pool) => {
            let mut tx = pool
                .begin_with("BEGIN ISOLATION LEVEL READ COMMITTED")
                .await?;
            let mut product = postgres::load(&mut tx, &POSTGRES, &sku).await?;
            if change {
                bump(&mut product);
                postgres::write(&mut tx, &POSTGRES, &product, b, a).await?;
                tx.commit().await?;
            }
        }
        Pool::MySql(pool) => {
            let mut tx = pool.begin().await?;
            let mut product = mysql::load(&mut tx, &QUESTION_MARKS, &sku).await?;
            if change {
                bump(&mut product);
                mysql::write(&mut tx, &QUESTION_MARKS, &product, b, a).await?;
                tx.commit().await?;
            }
        }
    }
    Ok(())
}
