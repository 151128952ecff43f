//! The allocation service's adapters: the HTTP API (axum) over the service
//! layer's message bus, the database wiring (uow-sqlx), the broker adapter
//! (events out through the outbox, commands in through the inbox) and the
//! notifications adapter. `main.rs` only reads the configuration and starts [`serve`].

pub mod broker;
pub mod http;
pub mod notifications;
pub mod store;

use std::sync::Arc;

use tokio::net::TcpListener;
use uow_core::Store;

pub use http::router;

/// Serves the API on `listener` over `store` until the process ends.
pub async fn serve<S: Store + Clone + 'static>(
    listener: TcpListener,
    store: S,
) -> std::io::Result<()> {
    serve_until(listener, store, std::future::pending()).await
}

/// Serves the API on `listener` over `store` until `shutdown` completes;
/// the requests under way are answered first (graceful shutdown).
pub async fn serve_until<S: Store + Clone + 'static>(
    listener: TcpListener,
    store: S,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let bus = Arc::new(allocation_service::bootstrap(
        store.clone(),
        notifications::LoggedNotifications,
    ));
    axum::serve(listener, router(bus, store))
        .with_graceful_shutdown(shutdown)
        .await
}
