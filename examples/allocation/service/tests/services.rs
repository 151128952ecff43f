//! The service layer's behaviour, told as scenarios and run on the in-memory
//! store and on SQLite: the same tests, two stores.

use allocation_domain::{BatchRef, Event, OrderId, Sku};
use allocation_service::{
    AllocateError, ServiceError, add_batch, allocate, change_batch_quantity, deallocate, product_of,
};
use chrono::NaiveDate;
use uow_core::Store;

fn tomorrow() -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(2026, 11, 22)
}

fn available(product: &allocation_domain::Product, reference: &str) -> i64 {
    product
        .batch(&BatchRef::new(reference))
        .expect("batch")
        .available_quantity()
}

async fn adding_a_batch_creates_the_product<S: Store>(store: S) {
    add_batch(&store, "b1", "CRUNCHY-ARMCHAIR", 100, None)
        .await
        .expect("add");
    let product = product_of(&store, "CRUNCHY-ARMCHAIR")
        .await
        .expect("read")
        .expect("created");
    assert_eq!(product.batches.len(), 1);
    assert_eq!(product.version, 1);
}

async fn adding_a_batch_for_an_existing_product_keeps_one_product<S: Store>(store: S) {
    add_batch(&store, "b1", "GARISH-RUG", 100, None)
        .await
        .expect("add");
    add_batch(&store, "b2", "GARISH-RUG", 99, None)
        .await
        .expect("add");
    let product = product_of(&store, "GARISH-RUG")
        .await
        .expect("read")
        .expect("stored");
    let refs: Vec<_> = product
        .batches
        .iter()
        .map(|b| b.reference.0.as_str())
        .collect();
    assert_eq!(refs, ["b1", "b2"]);
    assert_eq!(product.version, 2);
    assert!(matches!(
        add_batch(&store, "b1", "GARISH-RUG", 1, None).await,
        Err(ServiceError::DuplicateBatch(_))
    ));
}

async fn allocating_returns_the_batch_and_commits<S: Store>(store: S) {
    add_batch(&store, "batch1", "COMPLICATED-LAMP", 100, None)
        .await
        .expect("add");
    let (batchref, events) = allocate(&store, "o1", "COMPLICATED-LAMP", 10)
        .await
        .expect("allocate");
    assert_eq!(batchref, BatchRef::new("batch1"));
    assert_eq!(
        events,
        [Event::Allocated {
            orderid: OrderId::new("o1"),
            sku: Sku::new("COMPLICATED-LAMP"),
            qty: 10,
            batchref: batchref.clone(),
        }]
    );
    // A fresh unit of work sees the allocation: the service committed.
    let product = product_of(&store, "COMPLICATED-LAMP")
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(available(&product, "batch1"), 90);
}

async fn allocating_an_unknown_sku_is_rejected<S: Store>(store: S) {
    add_batch(&store, "b1", "AREALSKU", 100, None)
        .await
        .expect("add");
    let err = allocate(&store, "o1", "NONEXISTENTSKU", 10)
        .await
        .expect_err("unknown sku");
    assert!(
        matches!(&err, AllocateError::Service(ServiceError::UnknownSku(sku)) if sku.0 == "NONEXISTENTSKU"),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "invalid sku NONEXISTENTSKU");
}

async fn allocating_more_than_is_in_stock_fails_and_changes_nothing<S: Store>(store: S) {
    add_batch(&store, "b1", "SMALL-TABLE", 5, None)
        .await
        .expect("add");
    let err = allocate(&store, "o1", "SMALL-TABLE", 6)
        .await
        .expect_err("out of stock");
    assert!(matches!(err, AllocateError::OutOfStock(_)), "{err:?}");
    let product = product_of(&store, "SMALL-TABLE")
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(available(&product, "b1"), 5);
    assert_eq!(
        product.version, 1,
        "nothing changed, so nothing was written"
    );
}

async fn warehouse_stock_is_preferred_to_shipments<S: Store>(store: S) {
    add_batch(&store, "shipment", "CLOCK", 100, tomorrow())
        .await
        .expect("add");
    add_batch(&store, "warehouse", "CLOCK", 100, None)
        .await
        .expect("add");
    let (batchref, _) = allocate(&store, "o1", "CLOCK", 10).await.expect("allocate");
    assert_eq!(batchref, BatchRef::new("warehouse"));
}

async fn deallocating_frees_the_stock<S: Store>(store: S) {
    add_batch(&store, "b1", "BLUE-VASE", 10, None)
        .await
        .expect("add");
    allocate(&store, "o1", "BLUE-VASE", 10)
        .await
        .expect("allocate");
    assert!(matches!(
        allocate(&store, "o2", "BLUE-VASE", 1).await,
        Err(AllocateError::OutOfStock(_))
    ));
    assert_eq!(
        deallocate(&store, "o1", "BLUE-VASE")
            .await
            .expect("deallocate"),
        1
    );
    allocate(&store, "o2", "BLUE-VASE", 1)
        .await
        .expect("room again after deallocation");
}

async fn reducing_a_batch_reallocates_the_lines_that_no_longer_fit<S: Store>(store: S) {
    add_batch(&store, "warehouse", "INDIFFERENT-TABLE", 50, None)
        .await
        .expect("add");
    add_batch(&store, "shipment", "INDIFFERENT-TABLE", 50, tomorrow())
        .await
        .expect("add");
    allocate(&store, "o1", "INDIFFERENT-TABLE", 20)
        .await
        .expect("allocate");
    allocate(&store, "o2", "INDIFFERENT-TABLE", 20)
        .await
        .expect("allocate");

    let events = change_batch_quantity(&store, "warehouse", 25)
        .await
        .expect("change");
    assert!(events.contains(&Event::Allocated {
        orderid: OrderId::new("o2"),
        sku: Sku::new("INDIFFERENT-TABLE"),
        qty: 20,
        batchref: BatchRef::new("shipment"),
    }));
    let product = product_of(&store, "INDIFFERENT-TABLE")
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(available(&product, "warehouse"), 5);
    assert_eq!(available(&product, "shipment"), 30);
    assert!(matches!(
        change_batch_quantity(&store, "no-such-batch", 1).await,
        Err(ServiceError::UnknownBatch(_))
    ));
}

async fn concurrent_allocations_never_overbook<S: Store + Clone + 'static>(store: S) {
    add_batch(&store, "b1", "POPULAR-CHAIR", 10, None)
        .await
        .expect("add");
    let mut tasks = Vec::new();
    for i in 0..10 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            allocate(&store, &format!("o{i}"), "POPULAR-CHAIR", 3).await
        }));
    }
    let mut allocated = 0;
    for task in tasks {
        match task.await.expect("no panic") {
            Ok(_) => allocated += 1,
            Err(AllocateError::OutOfStock(_)) => {}
            Err(other) => panic!("unexpected failure: {other}"),
        }
    }
    assert_eq!(allocated, 3, "10 units hold three lines of 3");
    let product = product_of(&store, "POPULAR-CHAIR")
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(available(&product, "b1"), 1);
}

/// Each scenario on a fresh store of backend `B` with the service's tables.
mod scenarios {
    use allocation_service::Allocation;
    use uow_core::{InMemoryStore, UnitOfWork};
    use uow_tests::backends::Backend;

    const TABLES: &[&uow_core::AggregateMeta] =
        <Allocation<InMemoryStore> as UnitOfWork>::AGGREGATES;

    pub async fn adding_a_batch_creates_the_product<B: Backend>()
    where
        B::Store: 'static,
    {
        if let Some(store) = B::fresh_with(TABLES).await {
            super::adding_a_batch_creates_the_product(store).await;
        }
    }

    pub async fn adding_a_batch_for_an_existing_product_keeps_one_product<B: Backend>()
    where
        B::Store: 'static,
    {
        if let Some(store) = B::fresh_with(TABLES).await {
            super::adding_a_batch_for_an_existing_product_keeps_one_product(store).await;
        }
    }

    pub async fn allocating_returns_the_batch_and_commits<B: Backend>()
    where
        B::Store: 'static,
    {
        if let Some(store) = B::fresh_with(TABLES).await {
            super::allocating_returns_the_batch_and_commits(store).await;
        }
    }

    pub async fn allocating_an_unknown_sku_is_rejected<B: Backend>()
    where
        B::Store: 'static,
    {
        if let Some(store) = B::fresh_with(TABLES).await {
            super::allocating_an_unknown_sku_is_rejected(store).await;
        }
    }

    pub async fn allocating_more_than_is_in_stock_fails_and_changes_nothing<B: Backend>()
    where
        B::Store: 'static,
    {
        if let Some(store) = B::fresh_with(TABLES).await {
            super::allocating_more_than_is_in_stock_fails_and_changes_nothing(store).await;
        }
    }

    pub async fn warehouse_stock_is_preferred_to_shipments<B: Backend>()
    where
        B::Store: 'static,
    {
        if let Some(store) = B::fresh_with(TABLES).await {
            super::warehouse_stock_is_preferred_to_shipments(store).await;
        }
    }

    pub async fn deallocating_frees_the_stock<B: Backend>()
    where
        B::Store: 'static,
    {
        if let Some(store) = B::fresh_with(TABLES).await {
            super::deallocating_frees_the_stock(store).await;
        }
    }

    pub async fn reducing_a_batch_reallocates_the_lines_that_no_longer_fit<B: Backend>()
    where
        B::Store: 'static,
    {
        if let Some(store) = B::fresh_with(TABLES).await {
            super::reducing_a_batch_reallocates_the_lines_that_no_longer_fit(store).await;
        }
    }

    pub async fn concurrent_allocations_never_overbook<B: Backend>()
    where
        B::Store: 'static,
    {
        if let Some(store) = B::fresh_with(TABLES).await {
            super::concurrent_allocations_never_overbook(store).await;
        }
    }
}

uow_tests::on_backends!([in_memory, sqlite, postgres, mysql] scenarios: [
    adding_a_batch_creates_the_product,
    adding_a_batch_for_an_existing_product_keeps_one_product,
    allocating_returns_the_batch_and_commits,
    allocating_an_unknown_sku_is_rejected,
    allocating_more_than_is_in_stock_fails_and_changes_nothing,
    warehouse_stock_is_preferred_to_shipments,
    deallocating_frees_the_stock,
    reducing_a_batch_reallocates_the_lines_that_no_longer_fit,
    concurrent_allocations_never_overbook,
]);
