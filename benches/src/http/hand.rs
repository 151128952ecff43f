//! The hand-written allocation service: the flagship's `POST /allocate`
//! written directly on axum and sqlx (PostgreSQL), on the tables uow
//! created, with the same middleware (a trace span and a log line per
//! request), the same validation, the same answers, the same optimistic
//! version check on the product row and the same retries on a conflict.
//!
//! What one allocation sends (the flagship's statements are listed in the
//! report):
//!
//! 1. `BEGIN`
//! 2. one `SELECT` of the product's version and, per batch, its reference,
//!    ETA, purchased quantity, allocated quantity (`SUM` over its lines),
//!    next line position and whether the order is on it already;
//! 3. `UPDATE products SET version = version + 1 WHERE sku = $1 AND
//!    version = $2` — no row: a conflict, rolled back and retried;
//! 4. `INSERT` of the allocation, 5. `INSERT` of the event into the
//!    outbox, 6. `COMMIT`;
//! 7. the read model (`order_allocations`) updated after the commit, as the
//!    flagship's event handler does, in one upsert (autocommit).
//!
//! Running out of stock bumps the version and stores an `OutOfStock` event,
//! as the flagship does, and answers 400.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::rejection::JsonRejection;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use sqlx::PgPool;
use sqlx::types::chrono::NaiveDate;

/// The flagship's retry policy (`allocation_service`'s `retries()`): up to
/// 10 attempts, a random pause of 0–2 ms after the first conflict, the
/// bound doubling up to 200 ms.
const ATTEMPTS: u32 = 10;
const BACKOFF_BASE: Duration = Duration::from_millis(2);
const BACKOFF_MAX: Duration = Duration::from_millis(200);

/// One row per batch of the product (one row with no batch when it has
/// none); no row when the SKU is unknown.
const LOAD: &str = "\
SELECT p.version, b.reference, b.eta, b.purchased_quantity, \
       COALESCE(SUM(a.qty), 0)::BIGINT, \
       COALESCE(MAX(a.position) + 1, 0)::BIGINT, \
       COALESCE(BOOL_OR(a.orderid = $2), FALSE) \
FROM products p \
LEFT JOIN batches b ON b.root_id = p.sku \
LEFT JOIN allocations a ON a.root_id = b.root_id AND a.parent_id = b.reference \
WHERE p.sku = $1 \
GROUP BY p.version, b.root_id, b.reference, b.position, b.eta, b.purchased_quantity \
ORDER BY b.position";

const BUMP: &str = "UPDATE products SET version = version + 1 WHERE sku = $1 AND version = $2";

const ALLOCATE: &str = "INSERT INTO allocations (root_id, parent_id, position, orderid, sku, qty) \
                        VALUES ($1, $2, $3, $4, $5, $6)";

const OUTBOX: &str = "INSERT INTO uow_outbox \
                      (event_id, aggregate_type, aggregate_id, event_type, payload, created_at) \
                      VALUES ($1, 'Product', $2, $3, $4, $5)";

/// The read model of the order: its line for this SKU replaced by the new
/// one, lines sorted by SKU (what the flagship's `add_allocation` does).
const READ_MODEL: &str = "\
INSERT INTO order_allocations (orderid, version, lines) \
VALUES ($1, 1, jsonb_build_array(jsonb_build_object('sku', $2::TEXT, 'batchref', $3::TEXT))) \
ON CONFLICT (orderid) DO UPDATE SET \
  version = order_allocations.version + 1, \
  lines = (SELECT jsonb_agg(l ORDER BY l->>'sku' COLLATE \"C\") FROM ( \
             SELECT o AS l FROM jsonb_array_elements(order_allocations.lines) AS o \
             WHERE o->>'sku' <> $2 \
             UNION ALL SELECT EXCLUDED.lines->0) AS kept)";

/// Which statements the hand-written service sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Statements {
    /// The fewest round trips the work allows: 7 (see the module's
    /// documentation).
    Fewest,
    /// The flagship's statements, one for one: three `SELECT`s in
    /// autocommit (product, batches, allocations), then `BEGIN`, a commit
    /// marker, the version-checked `UPDATE`, the two `INSERT`s, `COMMIT`;
    /// the read model in a transaction of its own (`SELECT`, `BEGIN`,
    /// marker, `INSERT`, `COMMIT`): 14 round trips. What the flagship costs
    /// beyond its statements is the difference to this one.
    Flagship,
}

/// The service's state: its pool, its statements, and how many conflicts
/// it retried.
#[derive(Clone)]
struct App {
    pool: PgPool,
    statements: Statements,
    retries: Arc<AtomicU64>,
}

/// The hand-written service's routes over `pool`, sending `statements`;
/// every conflict retried is counted in `retries`.
pub fn router(pool: PgPool, statements: Statements, retries: Arc<AtomicU64>) -> Router {
    Router::new()
        .route("/allocate", post(allocate))
        .layer(middleware::from_fn(log_request))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(App {
            pool,
            statements,
            retries,
        })
}

#[derive(Deserialize)]
struct OrderLine {
    orderid: String,
    sku: String,
    qty: u32,
}

/// Why an attempt failed.
enum Failure {
    UnknownSku,
    /// The product's version moved since it was read.
    Conflict,
    Database(sqlx::Error),
}

impl From<sqlx::Error> for Failure {
    fn from(e: sqlx::Error) -> Self {
        Failure::Database(e)
    }
}

/// What an allocation came to.
enum Outcome {
    Allocated(String),
    OutOfStock,
}

fn error(status: StatusCode, message: String) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

async fn allocate(
    State(app): State<App>,
    body: Result<Json<OrderLine>, JsonRejection>,
) -> Response {
    let line = match body {
        Ok(Json(line)) => line,
        Err(rejection) => return error(rejection.status(), rejection.body_text()),
    };
    for (field, value) in [("orderid", &line.orderid), ("sku", &line.sku)] {
        if value.trim().is_empty() {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("invalid request body: {field}: must not be empty"),
            );
        }
    }
    if line.qty == 0 {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid request body: qty: must be at least 1".to_owned(),
        );
    }
    match allocate_with_retries(&app, &line).await {
        Ok(Outcome::Allocated(batchref)) => {
            (StatusCode::CREATED, Json(json!({ "batchref": batchref }))).into_response()
        }
        Ok(Outcome::OutOfStock) => error(
            StatusCode::BAD_REQUEST,
            format!("out of stock for sku {}", line.sku),
        ),
        Err(Failure::UnknownSku) => {
            error(StatusCode::BAD_REQUEST, format!("invalid sku {}", line.sku))
        }
        Err(Failure::Conflict) => error(
            StatusCode::CONFLICT,
            format!("product {} kept changing; try again", line.sku),
        ),
        Err(Failure::Database(e)) => {
            tracing::error!(error = %e, "request failed");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error".to_owned(),
            )
        }
    }
}

async fn allocate_with_retries(app: &App, line: &OrderLine) -> Result<Outcome, Failure> {
    let mut failed = 0;
    loop {
        let outcome = match app.statements {
            Statements::Fewest => attempt(&app.pool, line).await,
            Statements::Flagship => attempt_as_flagship(&app.pool, line).await,
        };
        match outcome {
            Err(Failure::Conflict) if failed + 1 < ATTEMPTS => {
                failed += 1;
                app.retries.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(pause(failed)).await;
            }
            outcome => return outcome,
        }
    }
}

/// A batch as the allocation sees it.
struct BatchRow {
    reference: String,
    eta: Option<NaiveDate>,
    available: i64,
    next_position: i64,
    holds: bool,
}

type LoadRow = (
    i64,
    Option<String>,
    Option<NaiveDate>,
    Option<i64>,
    i64,
    i64,
    bool,
);

async fn attempt(pool: &PgPool, line: &OrderLine) -> Result<Outcome, Failure> {
    let mut tx = pool.begin().await?;
    let rows: Vec<LoadRow> = sqlx::query_as(LOAD)
        .bind(&line.sku)
        .bind(&line.orderid)
        .fetch_all(&mut *tx)
        .await?;
    let Some(version) = rows.first().map(|r| r.0) else {
        return Err(Failure::UnknownSku);
    };
    let batches: Vec<BatchRow> = rows
        .into_iter()
        .filter_map(
            |(_, reference, eta, purchased, allocated, next_position, holds)| {
                Some(BatchRow {
                    reference: reference?,
                    eta,
                    available: purchased? - allocated,
                    next_position,
                    holds,
                })
            },
        )
        .collect();
    // An order already on a batch of the product stays there.
    if let Some(batch) = batches.iter().find(|b| b.holds) {
        tx.commit().await?;
        return Ok(Outcome::Allocated(batch.reference.clone()));
    }
    // Warehouse stock first (no ETA), then the earliest shipment; the first
    // in position order among equals, as the domain's `min_by_key`.
    let chosen = batches
        .iter()
        .filter(|b| b.available >= i64::from(line.qty))
        .min_by_key(|b| (b.eta.is_some(), b.eta));
    let bumped = sqlx::query(BUMP)
        .bind(&line.sku)
        .bind(version)
        .execute(&mut *tx)
        .await?;
    if bumped.rows_affected() == 0 {
        return Err(Failure::Conflict);
    }
    let outcome = match chosen {
        Some(batch) => {
            sqlx::query(ALLOCATE)
                .bind(&line.sku)
                .bind(&batch.reference)
                .bind(batch.next_position)
                .bind(&line.orderid)
                .bind(&line.sku)
                .bind(i64::from(line.qty))
                .execute(&mut *tx)
                .await?;
            let event = json!({ "Allocated": {
                "orderid": line.orderid,
                "sku": line.sku,
                "qty": line.qty,
                "batchref": batch.reference,
            }});
            store_event(&mut tx, &line.sku, "Allocated", &event).await?;
            Outcome::Allocated(batch.reference.clone())
        }
        None => {
            let event = json!({ "OutOfStock": { "sku": line.sku } });
            store_event(&mut tx, &line.sku, "OutOfStock", &event).await?;
            Outcome::OutOfStock
        }
    };
    tx.commit().await?;
    if let Outcome::Allocated(batchref) = &outcome {
        sqlx::query(READ_MODEL)
            .bind(&line.orderid)
            .bind(&line.sku)
            .bind(batchref)
            .execute(pool)
            .await?;
    } else {
        tracing::info!(
            destination = "stock@made.com",
            "Out of stock for {}",
            line.sku
        );
    }
    Ok(outcome)
}

/// One attempt with the flagship's statements (see [`Statements::Flagship`]).
async fn attempt_as_flagship(pool: &PgPool, line: &OrderLine) -> Result<Outcome, Failure> {
    let mut conn = pool.acquire().await?;
    let version: Option<i64> = sqlx::query_scalar("SELECT version FROM products WHERE sku = $1")
        .bind(&line.sku)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(version) = version else {
        return Err(Failure::UnknownSku);
    };
    let stored: Vec<(String, Option<NaiveDate>, i64)> = sqlx::query_as(
        "SELECT reference, eta, purchased_quantity FROM batches WHERE root_id = $1 \
         ORDER BY position",
    )
    .bind(&line.sku)
    .fetch_all(&mut *conn)
    .await?;
    let lines: Vec<(String, i64, String, i64)> = sqlx::query_as(
        "SELECT parent_id, position, orderid, qty FROM allocations WHERE root_id = $1",
    )
    .bind(&line.sku)
    .fetch_all(&mut *conn)
    .await?;
    let batches: Vec<BatchRow> = stored
        .into_iter()
        .map(|(reference, eta, purchased)| {
            let on_it = lines.iter().filter(|l| l.0 == reference);
            BatchRow {
                available: purchased - on_it.clone().map(|l| l.3).sum::<i64>(),
                next_position: on_it.clone().map(|l| l.1 + 1).max().unwrap_or(0),
                holds: on_it.clone().any(|l| l.2 == line.orderid),
                reference,
                eta,
            }
        })
        .collect();
    if let Some(batch) = batches.iter().find(|b| b.holds) {
        return Ok(Outcome::Allocated(batch.reference.clone()));
    }
    let chosen = batches
        .iter()
        .filter(|b| b.available >= i64::from(line.qty))
        .min_by_key(|b| (b.eta.is_some(), b.eta));
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    mark(&mut tx).await?;
    let bumped = sqlx::query("UPDATE products SET version = $1 WHERE sku = $2 AND version = $3")
        .bind(version + 1)
        .bind(&line.sku)
        .bind(version)
        .execute(&mut *tx)
        .await?;
    if bumped.rows_affected() == 0 {
        return Err(Failure::Conflict);
    }
    let outcome = match chosen {
        Some(batch) => {
            sqlx::query(ALLOCATE)
                .bind(&line.sku)
                .bind(&batch.reference)
                .bind(batch.next_position)
                .bind(&line.orderid)
                .bind(&line.sku)
                .bind(i64::from(line.qty))
                .execute(&mut *tx)
                .await?;
            let event = json!({ "Allocated": {
                "orderid": line.orderid,
                "sku": line.sku,
                "qty": line.qty,
                "batchref": batch.reference,
            }});
            store_event(&mut tx, &line.sku, "Allocated", &event).await?;
            Outcome::Allocated(batch.reference.clone())
        }
        None => {
            let event = json!({ "OutOfStock": { "sku": line.sku } });
            store_event(&mut tx, &line.sku, "OutOfStock", &event).await?;
            Outcome::OutOfStock
        }
    };
    tx.commit().await?;
    drop(conn);
    if let Outcome::Allocated(batchref) = &outcome {
        read_model_as_flagship(pool, line, batchref).await?;
    }
    Ok(outcome)
}

/// The read model as the flagship's handler updates it: read the order's
/// view, then write it in a transaction with a commit marker.
async fn read_model_as_flagship(
    pool: &PgPool,
    line: &OrderLine,
    batchref: &str,
) -> Result<(), sqlx::Error> {
    let mut conn = pool.acquire().await?;
    let view: Option<(i64, sqlx::types::Json<Vec<serde_json::Value>>)> =
        sqlx::query_as("SELECT version, lines FROM order_allocations WHERE orderid = $1")
            .bind(&line.orderid)
            .fetch_optional(&mut *conn)
            .await?;
    let new_line = json!({ "sku": line.sku, "batchref": batchref });
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    mark(&mut tx).await?;
    match view {
        None => {
            sqlx::query(
                "INSERT INTO order_allocations (orderid, version, lines) VALUES ($1, 1, $2)",
            )
            .bind(&line.orderid)
            .bind(sqlx::types::Json(vec![new_line]))
            .execute(&mut *tx)
            .await?;
        }
        Some((version, sqlx::types::Json(mut lines))) => {
            lines.retain(|l| l["sku"] != line.sku.as_str());
            lines.push(new_line);
            lines.sort_by(|a, b| a["sku"].as_str().cmp(&b["sku"].as_str()));
            sqlx::query(
                "UPDATE order_allocations SET version = $1, lines = $2 \
                 WHERE orderid = $3 AND version = $4",
            )
            .bind(version + 1)
            .bind(sqlx::types::Json(lines))
            .bind(&line.orderid)
            .bind(version)
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await
}

/// The commit marker the flagship's store writes in each commit.
async fn mark(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO uow_commits (unit_id, fenced) VALUES ($1, 0)")
        .bind(uuid::Uuid::now_v7().to_string())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn store_event(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    sku: &str,
    event_type: &str,
    payload: &serde_json::Value,
) -> Result<(), sqlx::Error> {
    let created_at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
    sqlx::query(OUTBOX)
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(sku)
        .bind(event_type)
        .bind(payload.to_string())
        .bind(created_at)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The pause after failed attempt `failed` (1-based): random between zero
/// and `min(max, base × 2ⁿ⁻¹)`, as `uow_core::RetryPolicy::pause`.
fn pause(failed: u32) -> Duration {
    let bound = BACKOFF_BASE
        .saturating_mul(1u32 << failed.saturating_sub(1).min(31))
        .min(BACKOFF_MAX);
    let nanos = u64::try_from(bound.as_nanos()).unwrap_or(u64::MAX);
    Duration::from_nanos(crate::http::load::random() % (nanos + 1))
}

/// Logs every request with its status at info level (the flagship's
/// middleware).
async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    tracing::info!(%method, %path, status = response.status().as_u16(), "request");
    response
}
