//! End to end through the HTTP layer: the router driven in-process
//! (`tower::ServiceExt::oneshot`, no socket) on every backend (the in-memory
//! store and SQLite always; PostgreSQL and MySQL when their URLs are set, and
//! required when `CI=true`), plus one smoke test of the served application
//! over a real socket on SQLite.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use serde_json::{Value, json};
use tower::ServiceExt;
use uow_core::Store;
use uow_testing::Backend;

/// A response as the tests see it.
#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Response {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The service under test: its router over the store, as `serve` builds it.
struct Service {
    router: Router,
}

impl Service {
    fn start<S: Store + Clone + 'static>(store: S) -> Service {
        let bus = Arc::new(allocation_service::bootstrap(
            store.clone(),
            allocation_adapters::notifications::LoggedNotifications,
        ));
        Service {
            router: allocation_adapters::router(bus, store),
        }
    }

    /// One request through the router, in-process.
    async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Response {
        let mut request = Request::builder().method(method).uri(path);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = match body {
            Some(body) => request
                .header("Content-Type", "application/json")
                .body(Body::from(body.to_owned())),
            None => request.body(Body::empty()),
        }
        .expect("a request");
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router is infallible");
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    v.to_str().expect("ASCII header").to_owned(),
                )
            })
            .collect();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("the body");
        Response {
            status,
            headers,
            body: String::from_utf8(bytes.to_vec()).expect("UTF-8 body"),
        }
    }

    async fn get(&self, path: &str) -> Response {
        self.request("GET", path, &[], None).await
    }

    async fn post(&self, path: &str, body: Value) -> Response {
        self.request("POST", path, &[], Some(&body.to_string()))
            .await
    }
}

/// The served application (`serve_until`) on a SQLite file answers over a
/// real socket and stops gracefully when asked.
#[tokio::test]
async fn the_service_answers_over_a_socket_on_sqlite() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = std::env::temp_dir().join(format!("allocation-smoke-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a directory");
    let url = format!("sqlite://{}", dir.join("smoke.db").display());
    let store = allocation_adapters::store::open(&url, true)
        .await
        .expect("open the SQLite store");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let address = listener.local_addr().expect("address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(allocation_adapters::serve_until(listener, store, async {
        let _ = stopped.await;
    }));
    let exchange = |request: String| async move {
        let mut socket = tokio::net::TcpStream::connect(address)
            .await
            .expect("connect");
        socket.write_all(request.as_bytes()).await.expect("send");
        let mut answer = String::new();
        socket.read_to_string(&mut answer).await.expect("receive");
        answer
    };
    let body = r#"{"ref": "b1", "sku": "SOCKET-LAMP", "qty": 7}"#;
    let created = exchange(format!(
        "POST /batches HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ))
    .await;
    assert!(created.starts_with("HTTP/1.1 201"), "{created}");
    let product = exchange(
        "GET /products/SOCKET-LAMP HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".into(),
    )
    .await;
    assert!(product.starts_with("HTTP/1.1 200"), "{product}");
    assert!(
        product.to_ascii_lowercase().contains("etag: \"1\""),
        "{product}"
    );
    assert!(product.contains(r#""available":7"#), "{product}");
    stop.send(()).expect("the server is running");
    server
        .await
        .expect("no panic")
        .expect("served and shut down");
    let _ = std::fs::remove_dir_all(&dir);
}

mod scenarios {
    use super::*;

    macro_rules! service {
        ($b:ty) => {
            match <$b>::fresh_with_messaging(allocation_service::AGGREGATES).await {
                Some(store) => (Service::start(store.clone()), store),
                None => return,
            }
        };
    }

    pub async fn the_happy_path<B: Backend>()
    where
        B::Store: 'static,
    {
        let (service, _store) = service!(B);
        let created = service
            .post(
                "/batches",
                json!({"ref": "early", "sku": "RETRO-CLOCK", "qty": 100, "eta": "2026-11-22"}),
            )
            .await;
        assert_eq!(created.status, 201, "{}", created.body);
        let created = service
            .post(
                "/batches",
                json!({"ref": "warehouse", "sku": "RETRO-CLOCK", "qty": 100}),
            )
            .await;
        assert_eq!(created.status, 201, "{}", created.body);

        let allocated = service
            .post(
                "/allocate",
                json!({"orderid": "order-1", "sku": "RETRO-CLOCK", "qty": 3}),
            )
            .await;
        assert_eq!(allocated.status, 201, "{}", allocated.body);
        assert_eq!(allocated.json(), json!({"batchref": "warehouse"}));

        let product = service.get("/products/RETRO-CLOCK").await;
        assert_eq!(product.status, 200);
        assert_eq!(product.header("etag"), Some("\"3\""));
        let body = product.json();
        assert_eq!(body["version"], 3);
        let warehouse = &body["batches"][1];
        assert_eq!(
            (&warehouse["ref"], &warehouse["available"]),
            (&json!("warehouse"), &json!(97))
        );
        assert_eq!(
            warehouse["allocations"],
            json!([{"orderid": "order-1", "qty": 3}])
        );

        let view = service.get("/allocations/order-1").await;
        assert_eq!(view.status, 200);
        assert_eq!(
            view.json(),
            json!([{"sku": "RETRO-CLOCK", "batchref": "warehouse"}])
        );
    }

    pub async fn unhappy_paths_are_client_errors_naming_the_problem<B: Backend>()
    where
        B::Store: 'static,
    {
        let (service, _store) = service!(B);
        service
            .post(
                "/batches",
                json!({"ref": "b1", "sku": "SMALL-TABLE", "qty": 5}),
            )
            .await;

        let unknown = service
            .post(
                "/allocate",
                json!({"orderid": "o1", "sku": "NOPE", "qty": 1}),
            )
            .await;
        assert_eq!(
            (unknown.status, unknown.json()),
            (400, json!({"error": "invalid sku NOPE"}))
        );

        let too_many = service
            .post(
                "/allocate",
                json!({"orderid": "o1", "sku": "SMALL-TABLE", "qty": 6}),
            )
            .await;
        assert_eq!(too_many.status, 400);
        assert_eq!(too_many.json()["error"], "out of stock for sku SMALL-TABLE");

        let negative = service
            .post(
                "/allocate",
                json!({"orderid": "o1", "sku": "SMALL-TABLE", "qty": -1}),
            )
            .await;
        assert_eq!(negative.status, 422);
        let error = negative.json()["error"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(error.contains("qty"), "names the field: {error}");

        let zero = service
            .post(
                "/allocate",
                json!({"orderid": "o1", "sku": "SMALL-TABLE", "qty": 0}),
            )
            .await;
        assert_eq!(zero.status, 422);
        assert!(zero.body.contains("qty"), "{}", zero.body);

        let missing = service
            .post("/allocate", json!({"orderid": "o1", "qty": 1}))
            .await;
        assert_eq!(missing.status, 422);
        assert!(
            missing.body.contains("missing field `sku`"),
            "{}",
            missing.body
        );

        let malformed = service
            .request("POST", "/allocate", &[], Some("{\"orderid\": "))
            .await;
        assert_eq!(malformed.status, 400);
        assert!(malformed.json()["error"].is_string());

        let not_json = service
            .request("POST", "/batches", &[("Content-Type", "text/plain")], None)
            .await;
        assert!(
            (400..500).contains(&not_json.status),
            "{} {}",
            not_json.status,
            not_json.body
        );

        let duplicate = service
            .post(
                "/batches",
                json!({"ref": "b1", "sku": "SMALL-TABLE", "qty": 5}),
            )
            .await;
        assert_eq!(duplicate.status, 409);

        assert_eq!(service.get("/products/NOPE").await.status, 404);
        assert_eq!(service.get("/no/such/route").await.status, 404);
        // Only the out-of-stock decision was a write: it recorded an event,
        // so it checked and bumped the product's version (1 -> 2), and a
        // concurrent allocation decided on version 1 cannot also commit.
        // Nothing else above changed the product.
        let product = service.get("/products/SMALL-TABLE").await;
        assert_eq!(product.json()["version"], 2);
        assert_eq!(product.json()["batches"][0]["available"], 5);
    }

    pub async fn a_stale_if_match_is_refused<B: Backend>()
    where
        B::Store: 'static,
    {
        let (service, _store) = service!(B);
        service
            .post("/batches", json!({"ref": "b1", "sku": "LAMP", "qty": 10}))
            .await;
        let seen = service.get("/products/LAMP").await;
        let etag = seen.header("etag").expect("an ETag").to_owned();

        // Someone allocates after we looked: the product moves on.
        service
            .post(
                "/allocate",
                json!({"orderid": "o1", "sku": "LAMP", "qty": 1}),
            )
            .await;

        let body = json!({"qty": 4}).to_string();
        let stale = service
            .request("PATCH", "/batches/b1", &[("If-Match", &etag)], Some(&body))
            .await;
        assert_eq!(stale.status, 412, "{}", stale.body);

        let missing = service
            .request("PATCH", "/batches/b1", &[], Some(&body))
            .await;
        assert_eq!(missing.status, 428, "{}", missing.body);

        let fresh = service.get("/products/LAMP").await;
        let etag = fresh.header("etag").expect("an ETag").to_owned();
        let changed = service
            .request("PATCH", "/batches/b1", &[("If-Match", &etag)], Some(&body))
            .await;
        assert_eq!(changed.status, 200, "{}", changed.body);
        let after = service.get("/products/LAMP").await;
        assert_eq!(after.json()["batches"][0]["qty"], 4);
        assert_ne!(after.header("etag"), Some(etag.as_str()));

        let unknown = service
            .request(
                "PATCH",
                "/batches/nope",
                &[("If-Match", "\"1\"")],
                Some(&body),
            )
            .await;
        assert_eq!(unknown.status, 404);
    }

    pub async fn the_read_model_follows_deallocation<B: Backend>()
    where
        B::Store: 'static,
    {
        let (service, _store) = service!(B);
        service
            .post("/batches", json!({"ref": "b1", "sku": "CHAIR", "qty": 10}))
            .await;
        service
            .post("/batches", json!({"ref": "b2", "sku": "TABLE", "qty": 10}))
            .await;
        for sku in ["CHAIR", "TABLE"] {
            let r = service
                .post("/allocate", json!({"orderid": "o1", "sku": sku, "qty": 2}))
                .await;
            assert_eq!(r.status, 201, "{}", r.body);
        }
        assert_eq!(
            service.get("/allocations/o1").await.json(),
            json!([{"sku": "CHAIR", "batchref": "b1"}, {"sku": "TABLE", "batchref": "b2"}])
        );
        let cancelled = service
            .post("/deallocate", json!({"orderid": "o1", "sku": "CHAIR"}))
            .await;
        assert_eq!(
            (cancelled.status, cancelled.json()),
            (200, json!({"deallocated": 1}))
        );
        assert_eq!(
            service.get("/allocations/o1").await.json(),
            json!([{"sku": "TABLE", "batchref": "b2"}])
        );
        let product = service.get("/products/CHAIR").await.json();
        assert_eq!(product["batches"][0]["available"], 10);
    }

    /// 200 clients allocate against one SKU at once: the product stays
    /// consistent — what is allocated is exactly what the 201s promised, and
    /// never more than the batches hold.
    pub async fn two_hundred_concurrent_allocations_keep_the_product_consistent<B: Backend>()
    where
        B::Store: 'static,
    {
        let (service, _store) = service!(B);
        service
            .post(
                "/batches",
                json!({"ref": "b1", "sku": "POPULAR", "qty": 60}),
            )
            .await;
        service
            .post(
                "/batches",
                json!({"ref": "b2", "sku": "POPULAR", "qty": 40, "eta": "2026-12-01"}),
            )
            .await;
        let service = Arc::new(service);
        let clients: Vec<_> = (0..200)
            .map(|i| {
                let service = Arc::clone(&service);
                tokio::spawn(async move {
                    service
                        .post(
                            "/allocate",
                            json!({"orderid": format!("o{i}"), "sku": "POPULAR", "qty": 1}),
                        )
                        .await
                })
            })
            .collect();
        let (mut created, mut out_of_stock, mut conflicts) = (0, 0, 0);
        for client in clients {
            let response = client.await.expect("no panic");
            match response.status {
                201 => created += 1,
                400 => out_of_stock += 1,
                409 => conflicts += 1,
                other => panic!("unexpected {other}: {}", response.body),
            }
        }
        let product = service.get("/products/POPULAR").await.json();
        let allocated: i64 = product["batches"]
            .as_array()
            .expect("batches")
            .iter()
            .map(|b| {
                b["allocations"]
                    .as_array()
                    .expect("allocations")
                    .iter()
                    .map(|l| l["qty"].as_i64().unwrap_or(0))
                    .sum::<i64>()
            })
            .sum();
        assert_eq!(allocated, created, "every 201 is stored, nothing else");
        assert!(allocated <= 100, "never above the batches' 100 units");
        assert_eq!(created + out_of_stock + conflicts, 200);
        uow_testing::report(&format!(
            "{}: 200 concurrent allocations: {created} allocated, {out_of_stock} out of stock, {conflicts} gave up after retries; {allocated} units allocated",
            B::NAME
        ));
    }
}

uow_testing::on_backends!([in_memory, sqlite, postgres, mysql] scenarios: [
    the_happy_path,
    unhappy_paths_are_client_errors_naming_the_problem,
    a_stale_if_match_is_refused,
    the_read_model_follows_deallocation,
    two_hundred_concurrent_allocations_keep_the_product_consistent,
]);
