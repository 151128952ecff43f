//! The allocation service's entry point.
//!
//! ```text
//! allocation [--host HOST] [--port PORT] [--create-tables]   serve the HTTP API (default 127.0.0.1:8080, or $HOST, $PORT)
//! allocation schema                            print the DDL of the service's tables
//! ```
//!
//! The database is `$DATABASE_URL`, by default `sqlite://allocation.db`
//! (created on first start). With `$NATS_URL` set, the service publishes its
//! events to NATS JetStream and takes `ChangeBatchQuantity` commands from it
//! (see the `broker` module); without it, no broker is needed. Logs go to standard error; `RUST_LOG=debug`
//! shows every unit of work's commit, rollback or conflict.

use std::process::ExitCode;
use std::str::FromStr;

use allocation_adapters::store::{DEFAULT_DATABASE_URL, open};
use tokio::net::TcpListener;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::prelude::*;

type Failure = Box<dyn std::error::Error>;

const USAGE: &str =
    "usage: allocation [--host HOST] [--port PORT] [--create-tables] | allocation schema
  DATABASE_URL  sqlite://allocation.db (default), postgres://..., mysql://...
  HOST          the address to listen on (default 127.0.0.1), also --host
  PORT          the port to listen on (default 8080), also --port
  NATS_URL      a NATS server (127.0.0.1:4222): publish events, take commands
  AMQP_URL      the same over RabbitMQ (amqp://guest:guest@127.0.0.1:5672/%2f; feature rabbitmq)
  REDIS_URL     the same over Redis Streams (redis://127.0.0.1/; feature redis)
  RUST_LOG      log filter, e.g. info (default) or debug";

#[tokio::main]
async fn main() -> ExitCode {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|f| Targets::from_str(&f).ok())
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO));
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .with(filter)
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &[String]) -> Result<(), Failure> {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_DATABASE_URL.into());
    let mut port: u16 = match std::env::var("PORT") {
        Ok(port) => port
            .parse()
            .map_err(|_| format!("PORT={port} is not a port"))?,
        Err(_) => 8080,
    };
    let mut host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".into());
    let mut create_tables = false;
    let mut words = args.iter().map(String::as_str);
    while let Some(word) = words.next() {
        match word {
            "--port" => {
                let value = words.next().ok_or("--port needs a value")?;
                port = value
                    .parse()
                    .map_err(|_| format!("--port {value} is not a port"))?;
            }
            "--host" => host = words.next().ok_or("--host needs a value")?.to_owned(),
            "--create-tables" => create_tables = true,
            "schema" => {
                let store = uow_sqlx::SqlxStore::connect(&url).await?;
                print!("{}", store.ddl(allocation_service::AGGREGATES));
                let dialect = store.dialect();
                for statement in uow_sqlx::outbox_ddl(dialect)
                    .into_iter()
                    .chain(uow_sqlx::inbox_ddl(dialect))
                {
                    println!("{statement};");
                }
                return Ok(());
            }
            "help" | "--help" | "-h" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => return Err(format!("unknown argument `{other}`\n{USAGE}").into()),
        }
    }
    let store = open(&url, create_tables).await.map_err(|e| {
        format!("{e}\n(the database is {url}; on a server, create the tables with a migration from `allocation schema`, or pass --create-tables)")
    })?;
    let listener = TcpListener::bind((host.as_str(), port))
        .await
        .map_err(|e| format!("cannot listen on {host}:{port}: {e}"))?;
    let address = listener.local_addr()?;
    // With a broker: events out through the outbox, commands in through the
    // inbox. Without one, the events stay in the outbox.
    if let Ok(nats) = std::env::var("NATS_URL") {
        let client = async_nats::connect(&nats)
            .await
            .map_err(|e| format!("cannot connect to NATS at {nats}: {e}"))?;
        allocation_adapters::broker::start_nats(client, store.clone(), Default::default()).await?;
        tracing::info!(%nats, "publishing events to and taking commands from NATS");
    }
    #[cfg(feature = "rabbitmq")]
    if let Ok(amqp) = std::env::var("AMQP_URL") {
        allocation_adapters::broker::start_rabbitmq(&amqp, store.clone(), Default::default())
            .await?;
        tracing::info!("publishing events to and taking commands from RabbitMQ");
    }
    #[cfg(feature = "redis")]
    if let Ok(redis) = std::env::var("REDIS_URL") {
        allocation_adapters::broker::start_redis(&redis, store.clone(), Default::default()).await?;
        tracing::info!("publishing events to and taking commands from Redis");
    }
    tracing::info!(database = %redact(&url), "allocation service listening on http://{address}");
    // Ctrl-C (SIGINT) stops accepting connections and ends once the
    // requests under way are answered.
    allocation_adapters::serve_until(listener, store, async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
    })
    .await?;
    Ok(())
}

/// The URL without a password, for the log.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(start), Some(at)) if at > start => match url[start + 3..at].split_once(':') {
            Some((user, _)) => format!("{}{user}:***{}", &url[..start + 3], &url[at..]),
            None => url.to_owned(),
        },
        _ => url.to_owned(),
    }
}
