//! The HTTP API: JSON in, JSON out, one command per request.
//!
//! | request | success | failures |
//! |---|---|---|
//! | `POST /items` `{"id","name"}` | 201 | 409 exists |
//! | `GET /items/{id}` | 200, `ETag: "<version>"` | 404 |
//! | `PATCH /items/{id}` `{"name"}` + `If-Match` | 200, new `ETag` | 404, 412 stale, 428 no `If-Match` |
//!
//! Errors are `{"error": message}`. A 500 logs its cause and answers a
//! generic message.

use std::sync::Arc;

use {{crate}}_service::{Bus, CreateItem, RenameItem, ServiceError, item};
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
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
        .route("/items", axum::routing::post(create_item::<S>))
        .route("/items/{id}", get(get_item::<S>).patch(rename_item::<S>))
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

    /// A 500: the cause goes to the log, the client gets a generic message.
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
            ServiceError::UnknownItem(_) => StatusCode::NOT_FOUND,
            ServiceError::DuplicateItem(_) => StatusCode::CONFLICT,
            ServiceError::StaleVersion { .. } => StatusCode::PRECONDITION_FAILED,
            ServiceError::Store(e) if e.is_conflict() => StatusCode::CONFLICT,
            ServiceError::Store(e) => return ApiError::internal(e),
        };
        ApiError::new(status, error.to_string())
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        ApiError::new(rejection.status(), rejection.body_text())
    }
}

/// The `ETag` of a version: the number, quoted.
fn etag(version: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
}

/// The version an `If-Match` names: `"3"`, `W/"3"` or `3`.
fn if_match(headers: &HeaderMap) -> Result<u64, ApiError> {
    let value = headers.get(header::IF_MATCH).ok_or_else(|| {
        ApiError::new(
            StatusCode::PRECONDITION_REQUIRED,
            "If-Match is required: send the ETag of GET /items/{id}",
        )
    })?;
    value
        .to_str()
        .ok()
        .map(|v| v.trim().trim_start_matches("W/").trim_matches('"'))
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| ApiError::new(StatusCode::BAD_REQUEST, "If-Match must be an ETag such as \"3\""))
}

#[derive(Deserialize)]
struct NewItem {
    id: String,
    name: String,
}

async fn create_item<S: Store + Clone + 'static>(
    State(app): State<App<S>>,
    body: Result<Json<NewItem>, JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let Json(body) = body?;
    if body.id.trim().is_empty() {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "id: must not be empty"));
    }
    let id = body.id.clone();
    app.bus
        .handle(CreateItem {
            id: body.id,
            name: body.name,
        })
        .await?;
    Ok((StatusCode::CREATED, [(header::ETAG, etag(1))], Json(json!({ "id": id }))))
}

async fn get_item<S: Store + Clone + 'static>(
    State(app): State<App<S>>,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let item = item(&app.store, &id)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no item {id}")))?;
    Ok((
        [(header::ETAG, etag(item.version))],
        Json(json!({ "id": item.id.0, "name": item.name, "version": item.version })),
    ))
}

#[derive(Deserialize)]
struct NewName {
    name: String,
}

async fn rename_item<S: Store + Clone + 'static>(
    State(app): State<App<S>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Json<NewName>, JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let expected = if_match(&headers)?;
    let Json(body) = body?;
    let (version, _report) = app
        .bus
        .handle(RenameItem {
            id,
            name: body.name,
            expected_version: Some(expected),
        })
        .await?;
    Ok(([(header::ETAG, etag(version))], Json(json!({ "version": version }))))
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no such route")
}

/// Logs every request with its status and duration.
async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let uri = request.uri().clone();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    tracing::info!(%method, %uri, status = response.status().as_u16(), elapsed = ?started.elapsed(), "request");
    response
}
