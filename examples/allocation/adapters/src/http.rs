//! The HTTP API: JSON in, JSON out, one command per request.
//!
//! | request | success | failures |
//! |---|---|---|
//! | `POST /batches` `{"ref","sku","qty","eta"?}` | 201 | 409 batch exists |
//! | `POST /allocate` `{"orderid","sku","qty"}` | 201 `{"batchref"}` | 400 unknown SKU, 400 out of stock, 409 conflicts persisted |
//! | `POST /deallocate` `{"orderid","sku"}` | 200 `{"deallocated"}` | 400 unknown SKU |
//! | `GET /products/{sku}` | 200, `ETag: "<version>"` | 404 |
//! | `PATCH /batches/{ref}` `{"qty"}` + `If-Match` | 200, new `ETag` | 404 unknown batch, 412 stale `If-Match`, 428 no `If-Match` |
//! | `GET /allocations/{orderid}` | 200 `[{"sku","batchref"}]` (read model) | |
//!
//! Bad input (malformed JSON, a missing field, a negative quantity) is a 400
//! or 422 with `{"error"}` naming the field; it is never a 500.

use std::sync::Arc;

use allocation_domain::Product;
use allocation_service::{
    Allocate, Bus, ChangeBatchQuantity, CreateBatch, Deallocate, ServiceError, allocations, product,
};
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::json;
use uow_core::{Store, bus::BusError};

/// What every handler sees: the bus for commands, the store for queries.
struct App<S: Store> {
    bus: Arc<Bus<S>>,
    store: S,
}

impl<S: Store + Clone> Clone for App<S> {
    fn clone(&self) -> Self {
        App {
            bus: Arc::clone(&self.bus),
            store: self.store.clone(),
        }
    }
}

/// The API's routes over `bus` (commands) and `store` (queries).
pub fn router<S: Store + Clone + 'static>(bus: Arc<Bus<S>>, store: S) -> Router {
    Router::new()
        .route("/batches", post(add_batch::<S>))
        .route("/batches/{reference}", patch(change_batch_quantity::<S>))
        .route("/allocate", post(allocate::<S>))
        .route("/deallocate", post(deallocate::<S>))
        .route("/products/{sku}", get(get_product::<S>))
        .route("/allocations/{orderid}", get(get_allocations::<S>))
        .fallback(not_found)
        .layer(middleware::from_fn(log_request))
        // A span per request (method, URI, status, latency at DEBUG:
        // `RUST_LOG=tower_http=debug`).
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(App { bus, store })
}

/// An error response: a status and `{"error": message}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }
}

impl ApiError {
    /// A 500: the cause goes to the log, the client gets a generic message
    /// (a database error's text is no business of the client's).
    fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "request failed");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.message }))).into_response()
    }
}

impl From<BusError<ServiceError>> for ApiError {
    fn from(error: BusError<ServiceError>) -> Self {
        match error {
            BusError::Command(error) => error.into(),
            other => ApiError::internal(&other),
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        let status = match &error {
            ServiceError::UnknownSku(_) => StatusCode::BAD_REQUEST,
            ServiceError::UnknownBatch(_) => StatusCode::NOT_FOUND,
            ServiceError::DuplicateBatch(_) => StatusCode::CONFLICT,
            ServiceError::StaleVersion { .. } => StatusCode::PRECONDITION_FAILED,
            ServiceError::Store(e) if e.is_conflict() => StatusCode::CONFLICT,
            ServiceError::Store(e) => return ApiError::internal(e),
        };
        ApiError::new(status, error.to_string())
    }
}

/// A JSON body whose rejections are JSON errors naming the field at fault:
/// 400 for malformed JSON, 422 for a missing field or a value of the wrong
/// type or range, 415 without `Content-Type: application/json`.
struct Body<T>(T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(Body(value)),
            Err(rejection) => Err(rejected(rejection)),
        }
    }
}

fn rejected(rejection: JsonRejection) -> ApiError {
    let status = rejection.status();
    let message = match &rejection {
        // "Failed to deserialize the JSON body into the target type: qty:
        // invalid value: integer `-1`, expected u32 at line 1 column 9"
        JsonRejection::JsonDataError(e) => {
            let text = e.body_text();
            let detail = text.split_once(": ").map_or(text.as_str(), |(_, d)| d);
            format!("invalid request body: {detail}")
        }
        _ => rejection.body_text(),
    };
    ApiError::new(status, message)
}

fn require(field: &str, value: &str) -> Result<(), ApiError> {
    if value.trim().is_empty() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("invalid request body: {field}: must not be empty"),
        ));
    }
    Ok(())
}

fn positive(field: &str, qty: u32) -> Result<(), ApiError> {
    if qty == 0 {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("invalid request body: {field}: must be at least 1"),
        ));
    }
    Ok(())
}

#[derive(Deserialize)]
struct NewBatch {
    #[serde(rename = "ref")]
    reference: String,
    sku: String,
    qty: u32,
    eta: Option<NaiveDate>,
}

async fn add_batch<S: Store + Clone + 'static>(
    State(app): State<App<S>>,
    Body(body): Body<NewBatch>,
) -> Result<impl IntoResponse, ApiError> {
    require("ref", &body.reference)?;
    require("sku", &body.sku)?;
    let command = CreateBatch {
        reference: body.reference.clone(),
        sku: body.sku,
        qty: body.qty,
        eta: body.eta,
    };
    app.bus.handle(command).await?;
    Ok((StatusCode::CREATED, Json(json!({ "ref": body.reference }))))
}

#[derive(Deserialize)]
struct OrderLine {
    orderid: String,
    sku: String,
    qty: u32,
}

async fn allocate<S: Store + Clone + 'static>(
    State(app): State<App<S>>,
    Body(body): Body<OrderLine>,
) -> Result<impl IntoResponse, ApiError> {
    require("orderid", &body.orderid)?;
    require("sku", &body.sku)?;
    positive("qty", body.qty)?;
    let command = Allocate {
        orderid: body.orderid,
        sku: body.sku,
        qty: body.qty,
    };
    match app.bus.handle(command).await?.0 {
        Ok(batchref) => Ok((StatusCode::CREATED, Json(json!({ "batchref": batchref.0 })))),
        Err(out_of_stock) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            out_of_stock.to_string(),
        )),
    }
}

#[derive(Deserialize)]
struct Cancellation {
    orderid: String,
    sku: String,
}

async fn deallocate<S: Store + Clone + 'static>(
    State(app): State<App<S>>,
    Body(body): Body<Cancellation>,
) -> Result<impl IntoResponse, ApiError> {
    require("orderid", &body.orderid)?;
    require("sku", &body.sku)?;
    let command = Deallocate {
        orderid: body.orderid,
        sku: body.sku,
    };
    let (lines, _) = app.bus.handle(command).await?;
    Ok(Json(json!({ "deallocated": lines })))
}

/// A product as the API shows it.
#[derive(Serialize)]
struct ProductView {
    sku: String,
    version: u64,
    batches: Vec<BatchView>,
}

#[derive(Serialize)]
struct BatchView {
    #[serde(rename = "ref")]
    reference: String,
    qty: u32,
    available: i64,
    eta: Option<NaiveDate>,
    allocations: Vec<LineView>,
}

#[derive(Serialize)]
struct LineView {
    orderid: String,
    qty: u32,
}

impl From<&Product> for ProductView {
    fn from(product: &Product) -> Self {
        ProductView {
            sku: product.sku.0.clone(),
            version: product.version,
            batches: product
                .batches
                .iter()
                .map(|b| BatchView {
                    reference: b.reference.0.clone(),
                    qty: b.purchased_quantity,
                    available: b.available_quantity(),
                    eta: b.eta,
                    allocations: b
                        .allocations()
                        .iter()
                        .map(|l| LineView {
                            orderid: l.orderid.0.clone(),
                            qty: l.qty,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// The `ETag` of a product: its version, quoted.
fn etag(version: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
}

async fn get_product<S: Store + Clone + 'static>(
    State(app): State<App<S>>,
    Path(sku): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let product = product(&app.store, &sku)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no product {sku}")))?;
    Ok((
        [(header::ETAG, etag(product.version))],
        Json(ProductView::from(&product)),
    ))
}

#[derive(Deserialize)]
struct NewQuantity {
    qty: u32,
}

/// The version an `If-Match` names: `"3"`, `W/"3"` or `3`.
fn if_match(headers: &HeaderMap) -> Result<u64, ApiError> {
    let value = headers.get(header::IF_MATCH).ok_or_else(|| {
        ApiError::new(
            StatusCode::PRECONDITION_REQUIRED,
            "If-Match is required: send the ETag of GET /products/{sku}, so a change made meanwhile is not overwritten",
        )
    })?;
    value
        .to_str()
        .ok()
        .map(|v| v.trim().trim_start_matches("W/").trim_matches('"'))
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "If-Match must be an ETag of this API, such as \"3\"",
            )
        })
}

async fn change_batch_quantity<S: Store + Clone + 'static>(
    State(app): State<App<S>>,
    Path(reference): Path<String>,
    headers: HeaderMap,
    Body(body): Body<NewQuantity>,
) -> Result<impl IntoResponse, ApiError> {
    let expected = if_match(&headers)?;
    let command = ChangeBatchQuantity {
        reference: reference.clone(),
        qty: body.qty,
        expected_version: Some(expected),
    };
    app.bus.handle(command).await?;
    Ok(Json(json!({ "ref": reference, "qty": body.qty })))
}

async fn get_allocations<S: Store + Clone + 'static>(
    State(app): State<App<S>>,
    Path(orderid): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(allocations(&app.store, &orderid).await?))
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no such route")
}

/// Logs every request with its status at info level.
async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    tracing::info!(%method, %path, status = response.status().as_u16(), "request");
    response
}
