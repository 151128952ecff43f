//! The allocation service's entry point.
//!
//! ```text
//! allocation                                  tell the allocation story on a fresh database
//! allocation add-batch REF SKU QTY [ETA]      ETA as YYYY-MM-DD; none means in the warehouse
//! allocation allocate ORDERID SKU QTY
//! allocation deallocate ORDERID SKU
//! allocation change-quantity REF QTY
//! allocation show SKU
//! allocation schema                            print the DDL of the service's tables
//! ```
//!
//! Commands other than the story work on `DATABASE_URL` (default
//! `sqlite://allocation.db`, created on first use).

mod notifications;
mod store;

use std::process::ExitCode;

use allocation_service::{
    Allocate, Allocation, Bus, ChangeBatchQuantity, CreateBatch, Deallocate, bootstrap, product,
};
use chrono::NaiveDate;
use notifications::PrintedNotifications;
use uow_core::Store;
use uow_sqlx::SqlxStore;

type Failure = Box<dyn std::error::Error>;

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

async fn run(args: &[String]) -> Result<(), Failure> {
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    match words.as_slice() {
        [] => return story().await,
        ["help" | "--help" | "-h"] => {
            println!("{}", usage());
            return Ok(());
        }
        _ => {}
    }
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| store::DEFAULT_DATABASE_URL.into());
    let store = store::open(&url).await?;
    let bus = bootstrap(store.clone(), PrintedNotifications);
    match words.as_slice() {
        ["add-batch", reference, sku, qty, rest @ ..] => {
            let eta = match rest {
                [] => None,
                [eta] => Some(NaiveDate::parse_from_str(eta, "%Y-%m-%d")?),
                _ => return Err(usage()),
            };
            add_batch(&bus, reference, sku, qty.parse()?, eta).await?;
            println!("added batch {reference}: {qty} × {sku}");
        }
        ["allocate", orderid, sku, qty] => {
            match allocate(&bus, orderid, sku, qty.parse()?).await? {
                Ok(batchref) => println!("allocated {orderid} to batch {batchref}"),
                Err(out_of_stock) => println!("{out_of_stock}"),
            }
        }
        ["deallocate", orderid, sku] => {
            let command = Deallocate {
                orderid: (*orderid).into(),
                sku: (*sku).into(),
            };
            let (lines, _) = bus.handle(command).await?;
            println!("deallocated {lines} line(s) of {orderid}");
        }
        ["change-quantity", reference, qty] => {
            change_quantity(&bus, reference, qty.parse()?).await?;
            println!("changed batch {reference} to {qty}");
        }
        ["show", sku] => show(&store, sku).await?,
        ["schema"] => print!("{}", store.ddl_for::<Allocation<SqlxStore>>()),
        _ => return Err(usage()),
    }
    Ok(())
}

fn usage() -> Failure {
    "usage: allocation [add-batch REF SKU QTY [ETA] | allocate ORDERID SKU QTY | deallocate ORDERID SKU | change-quantity REF QTY | show SKU | schema]".into()
}

async fn add_batch<S: Store + Clone + 'static>(
    bus: &Bus<S>,
    reference: &str,
    sku: &str,
    qty: u32,
    eta: Option<NaiveDate>,
) -> Result<(), Failure> {
    let command = CreateBatch {
        reference: reference.into(),
        sku: sku.into(),
        qty,
        eta,
    };
    bus.handle(command).await?;
    Ok(())
}

async fn allocate<S: Store + Clone + 'static>(
    bus: &Bus<S>,
    orderid: &str,
    sku: &str,
    qty: u32,
) -> Result<Result<allocation_domain::BatchRef, allocation_domain::OutOfStock>, Failure> {
    let command = Allocate {
        orderid: orderid.into(),
        sku: sku.into(),
        qty,
    };
    Ok(bus.handle(command).await?.0)
}

async fn change_quantity<S: Store + Clone + 'static>(
    bus: &Bus<S>,
    reference: &str,
    qty: u32,
) -> Result<usize, Failure> {
    let command = ChangeBatchQuantity {
        reference: reference.into(),
        qty,
        expected_version: None,
    };
    let ((), report) = bus.handle(command).await?;
    Ok(report.events)
}

async fn show<S: Store>(store: &S, sku: &str) -> Result<(), Failure> {
    match product(store, sku).await? {
        None => println!("no product {sku}"),
        Some(product) => {
            println!("product {} (version {})", product.sku, product.version);
            for batch in &product.batches {
                let eta = batch.eta.map_or_else(
                    || "in the warehouse".to_owned(),
                    |d| format!("arriving {d}"),
                );
                println!(
                    "  batch {:<12} {:>4} purchased, {:>4} available, {eta}",
                    batch.reference,
                    batch.purchased_quantity,
                    batch.available_quantity()
                );
                for line in batch.allocations() {
                    println!("    order {} × {}", line.orderid, line.qty);
                }
            }
        }
    }
    Ok(())
}

/// Runs the allocation story of "Architecture Patterns with Python" on a
/// fresh SQLite database and narrates it.
async fn story() -> Result<(), Failure> {
    let path = std::env::temp_dir().join(format!("allocation-story-{}.db", std::process::id()));
    let url = format!("sqlite://{}", path.display());
    let store = store::open(&url).await?;
    let bus = bootstrap(store.clone(), PrintedNotifications);
    println!("A fresh SQLite database at {}\n", path.display());

    let tomorrow = chrono::Utc::now().date_naive().succ_opt();
    add_batch(&bus, "shipment-1", "RETRO-CLOCK", 50, tomorrow).await?;
    add_batch(&bus, "warehouse-1", "RETRO-CLOCK", 20, None).await?;
    println!("Two batches of RETRO-CLOCK: 20 in the warehouse, 50 arriving tomorrow.");

    let batch = allocate(&bus, "order-1", "RETRO-CLOCK", 15).await??;
    println!("order-1 wants 15: allocated to {batch} (warehouse stock comes first).");
    let batch = allocate(&bus, "order-2", "RETRO-CLOCK", 10).await??;
    println!("order-2 wants 10: allocated to {batch} (only 5 left in the warehouse).");

    println!("order-3 wants 100:");
    if let Err(out_of_stock) = allocate(&bus, "order-3", "RETRO-CLOCK", 100).await? {
        println!("  {out_of_stock}.");
    }
    match allocate(&bus, "order-4", "MISSING-SKU", 1).await {
        Err(e) => println!("order-4 asks for an unknown product: {e}."),
        Ok(_) => println!("order-4: unexpectedly allocated"),
    }

    let events = change_quantity(&bus, "warehouse-1", 10).await?;
    println!(
        "The warehouse batch shrinks to 10: {events} events (Deallocated, then Allocated) move order-1 to the shipment."
    );

    println!("\nWhat is stored now:");
    show(&store, "RETRO-CLOCK").await?;

    // Two units of work race for the same product: the version check lets
    // exactly one commit, and the handler's retry re-runs the loser.
    let (a, b) = tokio::join!(
        allocate(&bus, "order-5", "RETRO-CLOCK", 1),
        allocate(&bus, "order-6", "RETRO-CLOCK", 1)
    );
    println!(
        "\norder-5 and order-6 race for the same product: {} and {}.",
        a??, b??
    );
    let stored = product(&store, "RETRO-CLOCK")
        .await?
        .ok_or("product vanished")?;
    println!(
        "The product is at version {}: every commit that changed it added one.",
        stored.version
    );

    drop(bus);
    drop(store);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    Ok(())
}
