//! The HTTP API driven in-process (`tower::ServiceExt::oneshot`) on the
//! in-memory store and on SQLite, plus one request over a real socket.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::Value;
use tower::ServiceExt;
use uow_core::Store;
use uow_testing::Backend;

async fn call<S: Store + Clone + 'static>(
    store: &S,
    method: &str,
    uri: &str,
    if_match: Option<&str>,
    body: Option<&str>,
) -> (StatusCode, Option<String>, Value) {
    let bus = Arc::new({{crate}}_service::bootstrap(store.clone()));
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(tag) = if_match {
        request = request.header(header::IF_MATCH, tag);
    }
    let request = match body {
        Some(body) => request
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_owned())),
        None => request.body(Body::empty()),
    }
    .expect("request");
    let response = {{crate}}_adapters::router(bus, store.clone())
        .oneshot(request)
        .await
        .expect("response");
    let status = response.status();
    let etag = response
        .headers()
        .get(header::ETAG)
        .map(|v| v.to_str().expect("ascii").to_owned());
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    (status, etag, serde_json::from_slice(&bytes).expect("json"))
}

async fn create_read_and_rename<B: Backend>()
where
    B::Store: 'static,
{
    let Some(store) = B::fresh_with_messaging({{crate}}_service::AGGREGATES).await else {
        return;
    };
    let (status, _, _) = call(&store, "POST", "/items", None, Some(r#"{"id":"i-1","name":"first"}"#)).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, etag, body) = call(&store, "GET", "/items/i-1", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["name"], "first");
    let etag = etag.expect("an ETag");
    assert_eq!(etag, "\"1\"");
    let rename = r#"{"name":"second"}"#;
    let (status, _, _) = call(&store, "PATCH", "/items/i-1", None, Some(rename)).await;
    assert_eq!(status, StatusCode::PRECONDITION_REQUIRED);
    let (status, new_tag, _) = call(&store, "PATCH", "/items/i-1", Some(&etag), Some(rename)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(new_tag.as_deref(), Some("\"2\""));
    let (status, _, body) = call(&store, "PATCH", "/items/i-1", Some(&etag), Some(rename)).await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED, "{body}");
    let (status, _, body) = call(&store, "GET", "/items/none", None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["error"].is_string());
}

#[tokio::test]
async fn the_api_creates_reads_and_renames_in_memory() {
    uow_testing::isolated(create_read_and_rename::<uow_testing::InMemory>()).await;
}

#[tokio::test]
async fn the_api_creates_reads_and_renames_on_sqlite() {
    uow_testing::isolated(create_read_and_rename::<uow_testing::Sqlite>()).await;
}

/// The served application on SQLite answers over a real socket, and shuts
/// down gracefully when asked.
#[tokio::test]
async fn the_service_answers_over_a_socket_on_sqlite() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = std::env::temp_dir().join(format!("{{name}}-smoke-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let url = format!("sqlite://{}", dir.join("smoke.db").display());
    let store = {{crate}}_adapters::store::open(&url, false)
        .await
        .expect("open");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn({{crate}}_adapters::serve(listener, store, async {
        let _ = stopped.await;
    }));
    let mut socket = tokio::net::TcpStream::connect(address).await.expect("connect");
    socket
        .write_all(b"GET /items/none HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut answer = String::new();
    socket.read_to_string(&mut answer).await.expect("read");
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    assert!(answer.contains(r#"{"error":"no item none"}"#), "{answer}");
    stop.send(()).expect("stop");
    server.await.expect("join").expect("served");
    let _ = std::fs::remove_dir_all(&dir);
}
