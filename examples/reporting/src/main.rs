//! The reporting service's entry point.
//!
//! ```text
//! reporting                                consume the allocation service's events
//! reporting allocations ORDERID            print the read model of an order
//! reporting change-batch-quantity REF QTY  send ChangeBatchQuantity to the allocation service
//! ```
//!
//! The database is `$DATABASE_URL` (default `sqlite://reporting.db`, created
//! on first start), the broker `$NATS_URL` (default `127.0.0.1:4222`).

use std::process::ExitCode;

use reporting::{AGGREGATES, Subjects};
use uow_sqlx::SqlxStore;

type Failure = Box<dyn std::error::Error + Send + Sync>;

const USAGE: &str =
    "usage: reporting | reporting allocations ORDERID | reporting change-batch-quantity REF QTY
  DATABASE_URL  sqlite://reporting.db (default), postgres://..., mysql://...
  NATS_URL      the NATS server (default 127.0.0.1:4222)";

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn open() -> Result<SqlxStore, Failure> {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite://reporting.db".to_owned());
    let store = SqlxStore::connect(&url).await?;
    store.create_tables(AGGREGATES).await?;
    store.create_inbox().await?;
    Ok(store)
}

async fn nats() -> Result<async_nats::Client, Failure> {
    let url = std::env::var("NATS_URL").unwrap_or_else(|_| "127.0.0.1:4222".to_owned());
    Ok(async_nats::connect(&url)
        .await
        .map_err(|e| format!("cannot connect to NATS at {url}: {e}"))?)
}

async fn run(args: &[String]) -> Result<(), Failure> {
    let subjects = Subjects::default();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        [] => {
            let store = open().await?;
            reporting::consume(nats().await?, store, &subjects).await?;
            Ok(())
        }
        ["allocations", orderid] => {
            for view in reporting::allocations(&open().await?, orderid).await? {
                println!(
                    "{} {} x{} -> {}",
                    view.orderid,
                    view.sku,
                    view.qty,
                    view.batchref.as_deref().unwrap_or("(unallocated)")
                );
            }
            Ok(())
        }
        ["change-batch-quantity", reference, qty] => {
            let qty: u32 = qty
                .parse()
                .map_err(|_| format!("{qty} is not a quantity"))?;
            reporting::change_batch_quantity(nats().await?, &subjects, reference, qty).await
        }
        _ => Err(USAGE.into()),
    }
}
