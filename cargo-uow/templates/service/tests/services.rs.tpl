//! The service's behaviour, driven through its message bus, on the in-memory
//! store, SQLite, and PostgreSQL/MySQL when `UOW_TEST_POSTGRES_URL` /
//! `UOW_TEST_MYSQL_URL` are set (uow-testing).

mod scenarios {
    use uow_core::bus::BusError;
    use uow_testing::Backend;
    use {{crate}}_service::{AGGREGATES, CreateItem, RenameItem, ServiceError, bootstrap, item};

    macro_rules! store {
        ($b:ty) => {
            match <$b>::fresh_with_messaging(AGGREGATES).await {
                Some(store) => store,
                None => return,
            }
        };
    }

    fn create(id: &str, name: &str) -> CreateItem {
        CreateItem {
            id: id.into(),
            name: name.into(),
        }
    }

    pub async fn a_created_item_is_stored<B: Backend>()
    where
        B::Store: 'static,
    {
        let store = store!(B);
        let bus = bootstrap(store.clone());
        bus.handle(create("i-1", "first")).await.expect("create");
        let stored = item(&store, "i-1").await.expect("read").expect("stored");
        assert_eq!(stored.name, "first");
        assert_eq!(stored.version, 1);
    }

    pub async fn a_duplicate_item_is_refused<B: Backend>()
    where
        B::Store: 'static,
    {
        let store = store!(B);
        let bus = bootstrap(store.clone());
        bus.handle(create("i-1", "first")).await.expect("create");
        let err = bus.handle(create("i-1", "again")).await.expect_err("duplicate");
        assert!(
            matches!(err, BusError::Command(ServiceError::DuplicateItem(_))),
            "{err}"
        );
    }

    pub async fn a_rename_against_a_stale_version_is_refused<B: Backend>()
    where
        B::Store: 'static,
    {
        let store = store!(B);
        let bus = bootstrap(store.clone());
        bus.handle(create("i-1", "first")).await.expect("create");
        let rename = |name: &str, expected| RenameItem {
            id: "i-1".into(),
            name: name.into(),
            expected_version: Some(expected),
        };
        assert_eq!(bus.handle(rename("second", 1)).await.expect("rename").0, 2);
        let err = bus.handle(rename("third", 1)).await.expect_err("stale");
        assert!(
            matches!(
                err,
                BusError::Command(ServiceError::StaleVersion {
                    expected: 1,
                    current: 2,
                    ..
                })
            ),
            "{err}"
        );
        let stored = item(&store, "i-1").await.expect("read").expect("stored");
        assert_eq!(stored.name, "second");
    }
}

uow_testing::on_backends!([in_memory, sqlite, postgres, mysql] scenarios: [
    a_created_item_is_stored,
    a_duplicate_item_is_refused,
    a_rename_against_a_stale_version_is_refused,
]);
