//! The race of "Architecture Patterns with Python", chapter 7: two units of
//! work load the same product at the same version and both allocate. Exactly
//! one commits; the other gets the version conflict; the product's version is
//! exactly one higher and exactly one allocation is stored. On PostgreSQL the
//! stores run at READ COMMITTED (the default isolation of `SqlxStore`), so it
//! is the version check, not the isolation level, that stops the lost update.

mod scenarios {
    use std::sync::Arc;

    use allocation_domain::{OrderLine, Sku};
    use allocation_service::{Allocation, CreateBatch, RecordedNotifications, bootstrap, product};
    use tokio::sync::Barrier;
    use uow_core::Error;
    use uow_testing::Backend;

    const TABLES: &[&uow_core::backend::AggregateMeta] = allocation_service::AGGREGATES;

    /// The two units of work interleaved step by step.
    pub async fn two_allocations_at_the_same_version_let_exactly_one_commit<B: Backend>()
    where
        B::Store: 'static,
    {
        let Some(store) = B::fresh_with_messaging(TABLES).await else {
            return;
        };
        bootstrap(store.clone(), RecordedNotifications::default())
            .handle(CreateBatch {
                reference: "batch1".into(),
                sku: "LAMP".into(),
                qty: 100,
                eta: None,
            })
            .await
            .expect("add");
        let sku = Sku::new("LAMP");

        let mut first = Allocation::begin(&store).await.expect("begin");
        let mut second = Allocation::begin(&store).await.expect("begin");
        let a = first
            .products
            .get(&sku)
            .await
            .expect("get")
            .expect("stored");
        let b = second
            .products
            .get(&sku)
            .await
            .expect("get")
            .expect("stored");
        assert_eq!((a.version, b.version), (1, 1), "both hold the same version");
        a.allocate(OrderLine::new("order1", "LAMP", 10))
            .expect("in stock");
        b.allocate(OrderLine::new("order2", "LAMP", 10))
            .expect("in stock");

        first.commit().await.expect("the first commit wins");
        let err = second.commit().await.expect_err("the second is rejected");
        assert!(
            matches!(&err, Error::Conflict { aggregate: "Product", id, expected: 1 } if id == "LAMP"),
            "{err:?}"
        );

        let product = product(&store, "LAMP")
            .await
            .expect("read")
            .expect("stored");
        assert_eq!(product.version, 2, "exactly one version higher");
        let orders: Vec<_> = product.batches[0]
            .allocations()
            .iter()
            .map(|l| l.orderid.0.as_str())
            .collect();
        assert_eq!(orders, ["order1"], "exactly one allocation stored");
    }

    /// The same race with two real tasks committing at the same moment.
    pub async fn two_concurrent_tasks_allocating_let_exactly_one_commit<B: Backend>()
    where
        B::Store: 'static,
    {
        let Some(store) = B::fresh_with_messaging(TABLES).await else {
            return;
        };
        bootstrap(store.clone(), RecordedNotifications::default())
            .handle(CreateBatch {
                reference: "batch1".into(),
                sku: "LAMP".into(),
                qty: 100,
                eta: None,
            })
            .await
            .expect("add");
        let both_loaded = Arc::new(Barrier::new(2));
        let tasks: Vec<_> = ["order1", "order2"]
            .into_iter()
            .map(|order| {
                let store = store.clone();
                let both_loaded = Arc::clone(&both_loaded);
                tokio::spawn(async move {
                    let mut uow = Allocation::begin(&store).await?;
                    let product = uow.products.get(&Sku::new("LAMP")).await?.expect("stored");
                    product
                        .allocate(OrderLine::new(order, "LAMP", 10))
                        .expect("in stock");
                    both_loaded.wait().await;
                    uow.commit().await.map(drop)
                })
            })
            .collect();
        let mut outcomes = Vec::new();
        for task in tasks {
            outcomes.push(task.await.expect("no panic"));
        }
        let committed = outcomes.iter().filter(|o| o.is_ok()).count();
        let conflicts = outcomes
            .iter()
            .filter(|o| matches!(o, Err(Error::Conflict { .. })))
            .count();
        assert_eq!((committed, conflicts), (1, 1), "{outcomes:?}");
        let product = product(&store, "LAMP")
            .await
            .expect("read")
            .expect("stored");
        assert_eq!(product.version, 2);
        assert_eq!(product.batches[0].allocations().len(), 1);
    }
}

uow_testing::on_backends!([in_memory, sqlite, postgres, mysql] scenarios: [
    two_allocations_at_the_same_version_let_exactly_one_commit,
    two_concurrent_tasks_allocating_let_exactly_one_commit,
]);
