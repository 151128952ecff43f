//! The {{name}} service's adapters: the HTTP API (axum) over the service
//! layer's message bus and the database wiring (uow-sqlx). `main.rs` only
//! reads the configuration and starts [`serve`].

pub mod http;
pub mod store;

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;
use uow_core::Store;

pub use http::router;

/// Serves the API on `listener` over `store` until `shutdown` completes;
/// requests under way are answered first (graceful shutdown).
pub async fn serve<S: Store + Clone + 'static>(
    listener: TcpListener,
    store: S,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let bus = Arc::new({{crate}}_service::bootstrap(store.clone()));
    axum::serve(listener, router(bus, store))
        .with_graceful_shutdown(shutdown)
        .await
}
