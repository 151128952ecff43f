//! The two services end to end over a real NATS JetStream: an allocation
//! made over HTTP on the allocation service appears in the reporting
//! service's read model; a `ChangeBatchQuantity` the reporting service
//! publishes to the broker reallocates the line on the allocation service,
//! and the read model follows. Each service has a database of its own
//! (SQLite files); subjects and streams are this run's own.
//!
//! Without `CI=true` the test is skipped (and says so) when NATS does not
//! answer; with it, it fails.

use std::time::{Duration, Instant};

use allocation_adapters::broker::BrokerConfig;
use reporting::Subjects;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use uow_testing::Backend;

/// One HTTP/1.1 request on a fresh connection: the status and the JSON body.
async fn request(
    address: std::net::SocketAddr,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut stream = TcpStream::connect(address).await.expect("connect");
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("receive");
    let text = String::from_utf8(raw).expect("UTF-8");
    let (head, body) = text.split_once("\r\n\r\n").expect("head and body");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        // One chunk is all these small answers take.
        body.split("\r\n").nth(1).unwrap_or_default().to_owned()
    } else {
        body.to_owned()
    };
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// Waits until `check` holds, or fails after 20 s with `what`.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(Instant::now() < deadline, "{what}: not after 20 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_nats_an_allocation_reaches_the_read_model_and_a_command_from_the_broker_reallocates()
 {
    let Some(address) = uow_testing::broker("NATS", "UOW_TEST_NATS_ADDR", "127.0.0.1:4222") else {
        return;
    };
    let client = async_nats::connect(address).await.expect("NATS");
    let run = format!("uowt{}e2e", std::process::id());
    let config = BrokerConfig {
        events_prefix: format!("{run}-allocation"),
        events_stream: format!("{}_ALLOCATION", run.to_uppercase()),
        commands_prefix: format!("{run}-allocation-commands"),
        commands_stream: format!("{}_ALLOCATION_COMMANDS", run.to_uppercase()),
    };
    let subjects = Subjects {
        events_stream: config.events_stream.clone(),
        commands_prefix: config.commands_prefix.clone(),
    };

    uow_testing::isolated(async {
        // The allocation service: HTTP API, outbox relay and command consumer.
        let allocation_store =
            uow_testing::Sqlite::fresh_with_messaging(allocation_service::AGGREGATES)
                .await
                .expect("SQLite");
        let tasks = allocation_adapters::broker::start_nats(
            client.clone(),
            allocation_store.clone(),
            config.clone(),
        )
        .await
        .expect("allocation on NATS");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let http = listener.local_addr().expect("address");
        let server = tokio::spawn(allocation_adapters::serve(listener, allocation_store));

        // The reporting service: its own database, consuming the events.
        let reporting_store = uow_testing::Sqlite::fresh_with_messaging(reporting::AGGREGATES)
            .await
            .expect("SQLite");
        let consumer = {
            let (client, store, subjects) =
                (client.clone(), reporting_store.clone(), subjects.clone());
            tokio::spawn(async move { reporting::consume(client, store, &subjects).await })
        };

        // Warehouse stock is preferred; the shipment takes what no longer fits.
        let tomorrow = "2999-01-01";
        for (reference, eta) in [("in-stock", None), ("shipment", Some(tomorrow))] {
            let (status, body) = request(
                http,
                "POST",
                "/batches",
                Some(json!({"ref": reference, "sku": "LAMP", "qty": 20, "eta": eta})),
            )
            .await;
            assert_eq!(status, 201, "{body}");
        }
        let (status, body) = request(
            http,
            "POST",
            "/allocate",
            Some(json!({"orderid": "o1", "sku": "LAMP", "qty": 10})),
        )
        .await;
        assert_eq!(status, 201, "{body}");

        let batch_in_read_model = |batch: &'static str| {
            let store = reporting_store.clone();
            move || {
                let store = store.clone();
                async move {
                    reporting::allocations(&store, "o1")
                        .await
                        .expect("read model")
                        .first()
                        .is_some_and(|view| view.batchref.as_deref() == Some(batch))
                }
            }
        };
        eventually(
            "the allocation to in-stock in the reporting read model",
            batch_in_read_model("in-stock"),
        )
        .await;

        // The batch shrinks below the line: the command travels through
        // NATS, the allocation service reallocates the line to the shipment.
        reporting::change_batch_quantity(client.clone(), &subjects, "in-stock", 5)
            .await
            .expect("command sent");
        eventually("the reallocation on the allocation service", || async {
            let (status, body) = request(http, "GET", "/allocations/o1", None).await;
            status == 200 && body == json!([{"sku": "LAMP", "batchref": "shipment"}])
        })
        .await;
        eventually(
            "the reallocation in the reporting read model",
            batch_in_read_model("shipment"),
        )
        .await;

        for task in tasks {
            task.abort();
        }
        server.abort();
        consumer.abort();
        let jetstream = async_nats::jetstream::new(client.clone());
        for stream in [&config.events_stream, &config.commands_stream] {
            let _ = jetstream.delete_stream(stream).await;
        }
    })
    .await;
}
