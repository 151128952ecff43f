//! The allocation service's behaviour, told as scenarios, driven through its
//! message bus, and run on the in-memory store and on every database.

use allocation_domain::{BatchRef, OrderId, Sku};
use allocation_service::{
    Allocate, ChangeBatchQuantity, CreateBatch, Deallocate, RecordedNotifications, ServiceError,
    bootstrap, product,
};
use chrono::NaiveDate;
use uow_core::{Store, bus::BusError};

fn tomorrow() -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(2026, 11, 22)
}

fn batch(reference: &str, sku: &str, qty: u32, eta: Option<NaiveDate>) -> CreateBatch {
    CreateBatch {
        reference: reference.into(),
        sku: sku.into(),
        qty,
        eta,
    }
}

fn line(orderid: &str, sku: &str, qty: u32) -> Allocate {
    Allocate {
        orderid: orderid.into(),
        sku: sku.into(),
        qty,
    }
}

async fn available<S: Store>(store: &S, sku: &str, reference: &str) -> i64 {
    product(store, sku)
        .await
        .expect("read")
        .expect("stored")
        .batch(&BatchRef::new(reference))
        .expect("batch")
        .available_quantity()
}

mod scenarios {
    use super::*;
    use uow_testing::Backend;

    const TABLES: &[&uow_core::backend::AggregateMeta] = allocation_service::AGGREGATES;

    macro_rules! store {
        ($b:ty) => {
            match <$b>::fresh_with_messaging(TABLES).await {
                Some(store) => store,
                None => return,
            }
        };
    }

    pub async fn adding_a_batch_creates_the_product<B: Backend>()
    where
        B::Store: 'static,
    {
        let store = store!(B);
        let bus = bootstrap(store.clone(), RecordedNotifications::default());
        bus.handle(batch("b1", "CRUNCHY-ARMCHAIR", 100, None))
            .await
            .expect("add");
        let stored = product(&store, "CRUNCHY-ARMCHAIR")
            .await
            .expect("read")
            .expect("created");
        assert_eq!((stored.batches.len(), stored.version), (1, 1));
    }

    pub async fn adding_a_batch_for_an_existing_product_keeps_one_product<B: Backend>()
    where
        B::Store: 'static,
    {
        let store = store!(B);
        let bus = bootstrap(store.clone(), RecordedNotifications::default());
        bus.handle(batch("b1", "GARISH-RUG", 100, None))
            .await
            .expect("add");
        bus.handle(batch("b2", "GARISH-RUG", 99, None))
            .await
            .expect("add");
        let stored = product(&store, "GARISH-RUG")
            .await
            .expect("read")
            .expect("stored");
        let refs: Vec<_> = stored
            .batches
            .iter()
            .map(|b| b.reference.0.as_str())
            .collect();
        assert_eq!(refs, ["b1", "b2"]);
        assert_eq!(stored.version, 2);
        assert!(matches!(
            bus.handle(batch("b1", "GARISH-RUG", 1, None)).await,
            Err(BusError::Command(ServiceError::DuplicateBatch(_)))
        ));
    }

    pub async fn allocating_returns_the_batch_and_commits<B: Backend>()
    where
        B::Store: 'static,
    {
        let store = store!(B);
        let bus = bootstrap(store.clone(), RecordedNotifications::default());
        bus.handle(batch("batch1", "COMPLICATED-LAMP", 100, None))
            .await
            .expect("add");
        let (outcome, report) = bus
            .handle(line("o1", "COMPLICATED-LAMP", 10))
            .await
            .expect("allocate");
        assert_eq!(outcome, Ok(BatchRef::new("batch1")));
        assert_eq!(report.events, 1, "the Allocated event");
        // A fresh unit of work sees the allocation: the handler committed.
        assert_eq!(available(&store, "COMPLICATED-LAMP", "batch1").await, 90);
    }

    pub async fn allocating_an_unknown_sku_is_rejected<B: Backend>()
    where
        B::Store: 'static,
    {
        let store = store!(B);
        let bus = bootstrap(store.clone(), RecordedNotifications::default());
        bus.handle(batch("b1", "AREALSKU", 100, None))
            .await
            .expect("add");
        let err = bus
            .handle(line("o1", "NONEXISTENTSKU", 10))
            .await
            .expect_err("unknown sku");
        assert!(
            matches!(&err, BusError::Command(ServiceError::UnknownSku(sku)) if sku.0 == "NONEXISTENTSKU"),
            "{err:?}"
        );
        assert_eq!(err.to_string(), "invalid sku NONEXISTENTSKU");
    }

    pub async fn running_out_of_stock_allocates_nothing_and_notifies_the_stock_team<B: Backend>()
    where
        B::Store: 'static,
    {
        let store = store!(B);
        let notifications = RecordedNotifications::default();
        let bus = bootstrap(store.clone(), notifications.clone());
        bus.handle(batch("b1", "SMALL-TABLE", 5, None))
            .await
            .expect("add");
        let (outcome, report) = bus
            .handle(line("o1", "SMALL-TABLE", 6))
            .await
            .expect("handled");
        assert_eq!(
            outcome.expect_err("out of stock").sku,
            Sku::new("SMALL-TABLE")
        );
        assert!(report.failures.is_empty());
        assert_eq!(available(&store, "SMALL-TABLE", "b1").await, 5);
        let stored = product(&store, "SMALL-TABLE")
            .await
            .expect("read")
            .expect("stored");
        // Deciding "out of stock" is a decision on this version of the
        // product: the event it recorded makes the product a write of the
        // unit of work, version-checked and bumped, so an allocation that
        // decided on the same version concurrently cannot also commit.
        assert_eq!(
            stored.version, 2,
            "the out-of-stock decision bumped the version"
        );
        assert_eq!(
            notifications.sent(),
            [(
                "stock@made.com".to_owned(),
                "Out of stock for SMALL-TABLE".to_owned()
            )]
        );
    }

    pub async fn warehouse_stock_is_preferred_to_shipments<B: Backend>()
    where
        B::Store: 'static,
    {
        let store = store!(B);
        let bus = bootstrap(store.clone(), RecordedNotifications::default());
        bus.handle(batch("shipment", "CLOCK", 100, tomorrow()))
            .await
            .expect("add");
        bus.handle(batch("warehouse", "CLOCK", 100, None))
            .await
            .expect("add");
        let (outcome, _) = bus.handle(line("o1", "CLOCK", 10)).await.expect("allocate");
        assert_eq!(outcome, Ok(BatchRef::new("warehouse")));
    }

    pub async fn deallocating_frees_the_stock<B: Backend>()
    where
        B::Store: 'static,
    {
        let store = store!(B);
        let bus = bootstrap(store.clone(), RecordedNotifications::default());
        bus.handle(batch("b1", "BLUE-VASE", 10, None))
            .await
            .expect("add");
        bus.handle(line("o1", "BLUE-VASE", 10))
            .await
            .expect("allocate")
            .0
            .expect("in stock");
        let (full, _) = bus
            .handle(line("o2", "BLUE-VASE", 1))
            .await
            .expect("handled");
        assert!(full.is_err(), "out of stock");
        let (lines, _) = bus
            .handle(Deallocate {
                orderid: "o1".into(),
                sku: "BLUE-VASE".into(),
            })
            .await
            .expect("deallocate");
        assert_eq!(lines, 1);
        let (room, _) = bus
            .handle(line("o2", "BLUE-VASE", 1))
            .await
            .expect("handled");
        assert!(room.is_ok(), "room again after deallocation");
    }

    /// Chapter 9: changing a batch's quantity deallocates the lines that no
    /// longer fit (events), and the reallocation handler allocates them to
    /// another batch.
    pub async fn a_batch_shrinking_below_its_allocations_leads_to_reallocation<B: Backend>()
    where
        B::Store: 'static,
    {
        let store = store!(B);
        let bus = bootstrap(store.clone(), RecordedNotifications::default());
        bus.handle(batch("warehouse", "INDIFFERENT-TABLE", 50, None))
            .await
            .expect("add");
        bus.handle(batch("shipment", "INDIFFERENT-TABLE", 50, tomorrow()))
            .await
            .expect("add");
        bus.handle(line("o1", "INDIFFERENT-TABLE", 20))
            .await
            .expect("allocate")
            .0
            .expect("in stock");
        bus.handle(line("o2", "INDIFFERENT-TABLE", 20))
            .await
            .expect("allocate")
            .0
            .expect("in stock");
        assert_eq!(
            available(&store, "INDIFFERENT-TABLE", "warehouse").await,
            10
        );

        let ((), report) = bus
            .handle(ChangeBatchQuantity {
                reference: "warehouse".into(),
                qty: 25,
                expected_version: None,
            })
            .await
            .expect("change");
        assert!(report.failures.is_empty(), "{report:?}");
        assert_eq!(report.events, 2, "Deallocated, then Allocated");

        assert_eq!(available(&store, "INDIFFERENT-TABLE", "warehouse").await, 5);
        assert_eq!(available(&store, "INDIFFERENT-TABLE", "shipment").await, 30);
        let stored = product(&store, "INDIFFERENT-TABLE")
            .await
            .expect("read")
            .expect("stored");
        let shipment = stored.batch(&BatchRef::new("shipment")).expect("batch");
        assert_eq!(shipment.allocations()[0].orderid, OrderId::new("o2"));

        assert!(matches!(
            bus.handle(ChangeBatchQuantity {
                reference: "no-such-batch".into(),
                qty: 1,
                expected_version: None
            })
            .await,
            Err(BusError::Command(ServiceError::UnknownBatch(_)))
        ));
    }

    /// Chapter 12: the read model follows allocations, reallocations and
    /// cancellations through events.
    pub async fn the_read_model_follows_allocations_through_events<B: Backend>()
    where
        B::Store: 'static,
    {
        let store = store!(B);
        let bus = bootstrap(store.clone(), RecordedNotifications::default());
        bus.handle(batch("warehouse", "LAMP", 10, None))
            .await
            .expect("add");
        bus.handle(batch("shipment", "LAMP", 50, tomorrow()))
            .await
            .expect("add");
        bus.handle(batch("b9", "TABLE", 10, None))
            .await
            .expect("add");
        bus.handle(line("order1", "LAMP", 10))
            .await
            .expect("allocate")
            .0
            .expect("in stock");
        bus.handle(line("order1", "TABLE", 1))
            .await
            .expect("allocate")
            .0
            .expect("in stock");
        let view = |lines: Vec<allocation_service::AllocationLine>| {
            lines
                .into_iter()
                .map(|l| (l.sku, l.batchref))
                .collect::<Vec<_>>()
        };
        let read = || async {
            view(
                allocation_service::allocations(&store, "order1")
                    .await
                    .expect("read"),
            )
        };
        assert_eq!(
            read().await,
            [
                ("LAMP".to_owned(), "warehouse".to_owned()),
                ("TABLE".to_owned(), "b9".to_owned())
            ]
        );

        // The warehouse batch shrinks: the line moves to the shipment.
        bus.handle(ChangeBatchQuantity {
            reference: "warehouse".into(),
            qty: 5,
            expected_version: None,
        })
        .await
        .expect("change");
        assert_eq!(
            read().await,
            [
                ("LAMP".to_owned(), "shipment".to_owned()),
                ("TABLE".to_owned(), "b9".to_owned())
            ]
        );

        // The customer cancels the lamp.
        bus.handle(Deallocate {
            orderid: "order1".into(),
            sku: "LAMP".into(),
        })
        .await
        .expect("deallocate");
        assert_eq!(read().await, [("TABLE".to_owned(), "b9".to_owned())]);
        assert!(
            allocation_service::allocations(&store, "no-such-order")
                .await
                .expect("read")
                .is_empty()
        );
    }

    pub async fn a_change_against_a_stale_version_is_refused<B: Backend>()
    where
        B::Store: 'static,
    {
        let store = store!(B);
        let bus = bootstrap(store.clone(), RecordedNotifications::default());
        bus.handle(batch("b1", "CHAIR", 10, None))
            .await
            .expect("add");
        let seen = product(&store, "CHAIR")
            .await
            .expect("read")
            .expect("stored")
            .version;
        bus.handle(line("o1", "CHAIR", 1))
            .await
            .expect("allocate")
            .0
            .expect("in stock");
        let err = bus
            .handle(ChangeBatchQuantity {
                reference: "b1".into(),
                qty: 5,
                expected_version: Some(seen),
            })
            .await
            .expect_err("someone allocated meanwhile");
        assert!(
            matches!(
                err,
                BusError::Command(ServiceError::StaleVersion {
                    expected: 1,
                    current: 2,
                    ..
                })
            ),
            "{err:?}"
        );
        bus.handle(ChangeBatchQuantity {
            reference: "b1".into(),
            qty: 5,
            expected_version: Some(seen + 1),
        })
        .await
        .expect("against the current version");
        assert_eq!(available(&store, "CHAIR", "b1").await, 4);
    }

    pub async fn concurrent_allocations_never_overbook<B: Backend>()
    where
        B::Store: 'static,
    {
        let store = store!(B);
        let bus = std::sync::Arc::new(bootstrap(store.clone(), RecordedNotifications::default()));
        bus.handle(batch("b1", "POPULAR-CHAIR", 10, None))
            .await
            .expect("add");
        let tasks: Vec<_> = (0..10)
            .map(|i| {
                let bus = std::sync::Arc::clone(&bus);
                tokio::spawn(
                    async move { bus.handle(line(&format!("o{i}"), "POPULAR-CHAIR", 3)).await },
                )
            })
            .collect();
        let mut allocated = 0;
        for task in tasks {
            match task.await.expect("no panic") {
                Ok((Ok(_), _)) => allocated += 1,
                Ok((Err(_out_of_stock), _)) => {}
                Err(other) => panic!("unexpected failure: {other}"),
            }
        }
        assert_eq!(allocated, 3, "10 units hold three lines of 3");
        assert_eq!(available(&store, "POPULAR-CHAIR", "b1").await, 1);
    }
}

uow_testing::on_backends!([in_memory, sqlite, postgres, mysql] scenarios: [
    adding_a_batch_creates_the_product,
    adding_a_batch_for_an_existing_product_keeps_one_product,
    allocating_returns_the_batch_and_commits,
    allocating_an_unknown_sku_is_rejected,
    running_out_of_stock_allocates_nothing_and_notifies_the_stock_team,
    warehouse_stock_is_preferred_to_shipments,
    deallocating_frees_the_stock,
    a_batch_shrinking_below_its_allocations_leads_to_reallocation,
    the_read_model_follows_allocations_through_events,
    a_change_against_a_stale_version_is_refused,
    concurrent_allocations_never_overbook,
]);

/// A morning of allocations — warehouse stock first, then the shipment, then
/// out of stock — told once and run on every backend by `uow_testing`,
/// which checks each database against the in-memory store.
struct AMorningOfAllocations;

impl uow_testing::Scenario for AMorningOfAllocations {
    /// The batch each order went to (or `None`, out of stock), and what is
    /// left of each batch.
    type Outcome = (Vec<Option<String>>, i64, i64);

    async fn run<S: Store + Clone>(&self, store: S) -> Self::Outcome {
        let bus = bootstrap(store.clone(), RecordedNotifications::default());
        bus.handle(batch("in-stock", "LAMP", 10, None))
            .await
            .expect("add");
        bus.handle(batch("shipment", "LAMP", 10, tomorrow()))
            .await
            .expect("add");
        let mut placed = Vec::new();
        for (order, qty) in [("o1", 8), ("o2", 8), ("o3", 8)] {
            let (outcome, _) = bus
                .handle(line(order, "LAMP", qty))
                .await
                .expect("allocate");
            placed.push(outcome.ok().map(|batch| batch.0));
        }
        (
            placed,
            available(&store, "LAMP", "in-stock").await,
            available(&store, "LAMP", "shipment").await,
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_morning_of_allocations_ends_alike_on_every_backend() {
    let outcomes =
        uow_testing::on_every_backend(allocation_service::AGGREGATES, &AMorningOfAllocations).await;
    assert_eq!(
        outcomes[0].1,
        (
            vec![Some("in-stock".into()), Some("shipment".into()), None],
            2,
            2
        )
    );
    uow_testing::report(&format!(
        "a morning of allocations compared on: {:?}",
        outcomes.iter().map(|(name, _)| *name).collect::<Vec<_>>()
    ));
}
