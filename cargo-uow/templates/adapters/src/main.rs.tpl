//! The {{name}} service's entry point.
//!
//! ```text
//! {{name}} [--bind ADDR] [--create-tables]   serve the HTTP API (default 127.0.0.1:8080, or $BIND)
//! {{name}} schema                            print the DDL of the service's tables
//! {{name}} migration-sql [--database-url URL] print what the database lacks (the next migration)
//! ```
//!
//! At start-up the service applies the migrations of `migrations/` (sqlx's
//! layout, `cargo uow migration new NAME` writes them), then checks its
//! tables.

use std::process::ExitCode;
use std::str::FromStr;

use {{crate}}_adapters::store::{DEFAULT_DATABASE_URL, open};
use tokio::net::TcpListener;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::prelude::*;

type Failure = Box<dyn std::error::Error>;

const USAGE: &str = "usage: {{name}} [--bind ADDR] [--create-tables] | {{name}} schema | {{name}} migration-sql [--database-url URL]
  DATABASE_URL  {{database_url}} (default), sqlite://..., postgres://..., mysql://...
  BIND          the address to listen on (default 127.0.0.1:8080), also --bind
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
    let mut bind = std::env::var("BIND").unwrap_or_else(|_| "127.0.0.1:8080".into());
    let mut create_tables = false;
    let mut words = args.iter().map(String::as_str);
    while let Some(word) = words.next() {
        match word {
            "--bind" => bind = words.next().ok_or("--bind needs a value")?.to_owned(),
            "--create-tables" => create_tables = true,
            "schema" => {
                let store = uow_sqlx::SqlxStore::connect(&url).await?;
                print!("{}", store.ddl({{crate}}_service::AGGREGATES));
                for statement in uow_sqlx::outbox_ddl(store.dialect()) {
                    println!("{statement};");
                }
                return Ok(());
            }
            "migration-sql" => {
                let url = match words.next() {
                    None => url,
                    Some("--database-url") => words
                        .next()
                        .ok_or("--database-url needs a value")?
                        .to_owned(),
                    Some(other) => {
                        return Err(format!("unknown argument `{other}`\n{USAGE}").into());
                    }
                };
                let store = uow_sqlx::SqlxStore::connect(&url).await?;
                for statement in store
                    .migration_for::<{{crate}}_service::Work<uow_sqlx::SqlxStore>>()
                    .await?
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
    let store = open(&url, create_tables)
        .await
        .map_err(|e| format!("{e}\n(the database is {url}; on a server, pass --create-tables or create the tables from `{{name}} schema`)"))?;
    let listener = TcpListener::bind(&bind)
        .await
        .map_err(|e| format!("cannot listen on {bind}: {e}"))?;
    tracing::info!("{{name}} service listening on http://{}", listener.local_addr()?);
    {{crate}}_adapters::serve(listener, store, async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
    })
    .await?;
    Ok(())
}
