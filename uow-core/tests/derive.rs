//! The derives and `#[unit_of_work]` against the in-memory store: what they
//! generate compiles against uow-core, and a product catalogue behaves the
//! way the domain expects when it is stored and loaded.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use uow_core::{
    Aggregate, AnyEvent, ColumnValue, Entity, Error, InMemoryStore, Store,
    backend::{ColumnKind, ColumnRole, Value},
    unit_of_work,
};

#[derive(ColumnValue, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sku(String);

fn sku(text: &str) -> Sku {
    Sku(text.to_owned())
}

/// A value object with a named field.
#[derive(ColumnValue, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineNumber {
    value: u32,
}

/// A child entity, stored inside its product's JSON document.
#[derive(Entity, Clone, Debug, Serialize, Deserialize)]
#[entity(eq_by_id)]
pub struct Batch {
    #[entity(id)]
    pub reference: String,
    pub quantity: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ProductEvent {
    Listed { sku: Sku },
    Restocked { sku: Sku, quantity: u32 },
}

#[derive(Aggregate, Clone, Debug)]
#[aggregate(table = "products", eq_by_id)]
pub struct Product {
    #[aggregate(id)]
    pub sku: Sku,
    #[aggregate(version)]
    pub version: u64,
    pub description: String,
    #[aggregate(find_by)]
    pub category: String,
    #[aggregate(unique, column = "ean_code")]
    pub ean: Option<String>,
    #[aggregate(json)]
    pub batches: Vec<Batch>,
    #[aggregate(events)]
    pub events: Vec<ProductEvent>,
}

impl Product {
    fn list(sku: Sku, description: &str, category: &str, ean: Option<&str>) -> Self {
        Product {
            events: vec![ProductEvent::Listed { sku: sku.clone() }],
            sku,
            version: 0,
            description: description.to_owned(),
            category: category.to_owned(),
            ean: ean.map(str::to_owned),
            batches: Vec::new(),
        }
    }

    fn restock(&mut self, reference: &str, quantity: u32) {
        self.batches.push(Batch {
            reference: reference.to_owned(),
            quantity,
        });
        self.events.push(ProductEvent::Restocked {
            sku: self.sku.clone(),
            quantity,
        });
    }

    fn available(&self) -> u32 {
        self.batches.iter().map(|b| b.quantity).sum()
    }
}

/// No table name given, a non-u64 version, no events.
#[derive(Aggregate, Clone, Debug)]
pub struct OrderLine {
    #[aggregate(id)]
    pub number: LineNumber,
    #[aggregate(version)]
    pub revision: i32,
    pub sku: Sku,
    pub quantity: u32,
}

#[derive(Debug, PartialEq)]
pub enum AllocationEvent {
    Product(ProductEvent),
}

impl From<ProductEvent> for AllocationEvent {
    fn from(event: ProductEvent) -> Self {
        AllocationEvent::Product(event)
    }
}

/// Allocating order lines to batches of products.
#[unit_of_work(events = AllocationEvent)]
pub struct Allocation {
    /// The products and their batches.
    pub products: Product,
    pub lines: OrderLine,
}

#[unit_of_work]
pub struct Catalogue {
    pub products: Product,
}

fn lamp() -> Product {
    Product::list(sku("LAMP"), "A lamp", "lighting", Some("4006381333931"))
}

fn chair() -> Product {
    Product::list(sku("CHAIR"), "A chair", "furniture", None)
}

async fn store_with(products: Vec<Product>) -> InMemoryStore {
    let store = InMemoryStore::new();
    let mut uow = Catalogue::begin(&store).await.unwrap();
    for product in products {
        uow.products.add(product).unwrap();
    }
    uow.commit().await.unwrap();
    store
}

/// A service function, generic over the store as services are.
async fn restock<S: Store>(
    store: &S,
    sku: &Sku,
    reference: &str,
    quantity: u32,
) -> Result<Vec<AllocationEvent>, Error> {
    let mut uow = Allocation::begin(store).await?;
    if let Some(product) = uow.products.get(sku).await? {
        product.restock(reference, quantity);
    }
    uow.commit().await
}

/// Code written against the repository port, not a store.
async fn count_in_category<R: ProductRepository>(repository: &mut R, category: &str) -> usize {
    repository.find_by_category(category).await.unwrap().len()
}

#[test]
fn the_metadata_describes_the_table() {
    let meta = Product::META;
    assert_eq!(meta.name, "Product");
    assert_eq!(meta.table, "products");
    let names: Vec<_> = meta.columns.iter().map(|c| c.name).collect();
    assert_eq!(
        names,
        [
            "sku",
            "version",
            "description",
            "category",
            "ean_code",
            "batches"
        ]
    );
    let fields: Vec<_> = meta.columns.iter().map(|c| c.field).collect();
    assert_eq!(
        fields,
        [
            "sku",
            "version",
            "description",
            "category",
            "ean",
            "batches"
        ]
    );
    let kinds: Vec<_> = meta.columns.iter().map(|c| c.kind).collect();
    use ColumnKind::{BigInt, Json, Text};
    assert_eq!(kinds, [Text, BigInt, Text, Text, Text, Json]);
    let nullable: Vec<_> = meta.columns.iter().map(|c| c.nullable).collect();
    assert_eq!(nullable, [false, false, false, false, true, false]);
    let roles: Vec<_> = meta.columns.iter().map(|c| c.role).collect();
    use ColumnRole::{Finder, Id, Plain, Unique, Version};
    assert_eq!(roles, [Id, Version, Plain, Finder, Unique, Plain]);
    assert_eq!((meta.id, meta.version), (0, 1));

    assert_eq!(OrderLine::META.table, "order_line");
    assert_eq!(OrderLine::META.columns[1].kind, ColumnKind::Int);
    assert_eq!(<LineNumber as ColumnValue>::KIND, ColumnKind::BigInt);
}

#[test]
fn a_product_is_one_row_and_back() {
    let mut product = lamp();
    product.version = 3;
    product.restock("batch-1", 20);
    let row = uow_core::backend::encode_row(&product).unwrap();
    assert_eq!(row[0], Value::Text("LAMP".into()));
    assert_eq!(row[1], Value::Int(3));
    assert_eq!(row[4], Value::Text("4006381333931".into()));
    assert!(matches!(&row[5], Value::Json(text) if text.contains("batch-1")));

    let mut back: Product = uow_core::backend::decode_row(row.as_slice()).unwrap();
    assert_eq!(back.version, 3);
    assert_eq!(back.available(), 20);
    assert_eq!(back.description, "A lamp");
    assert!(back.take_events().is_empty(), "events are never stored");
    assert_eq!(product.take_events().len(), 2);
    assert!(
        product.take_events().is_empty(),
        "taking events drains them"
    );
}

/// The dirty check's comparison: a product equals its stored row in every
/// column but the version, and any one field changed (the id, text, an
/// `Option`, the JSON document, a newtype) makes it differ.
#[test]
fn a_product_compares_field_by_field_with_its_stored_row() {
    let mut product = lamp();
    product.version = 3;
    product.restock("batch-1", 20);
    let row = uow_core::backend::encode_row(&product).unwrap();
    assert!(product.same_row(&row));

    let mut bumped = product.clone();
    bumped.version = 9;
    assert!(bumped.same_row(&row), "the version is the unit of work's");

    let changes: [fn(&mut Product); 5] = [
        |p| p.sku = sku("LAMP-2"),
        |p| p.description.push('!'),
        |p| p.ean = None,
        |p| p.batches[0].quantity += 1,
        |p| p.category = "lighting ".to_owned(),
    ];
    for change in changes {
        let mut changed = product.clone();
        change(&mut changed);
        assert!(!changed.same_row(&row), "{changed:?}");
        assert_ne!(
            uow_core::backend::encode_row(&changed).unwrap()[..],
            row[..],
            "encoding agrees"
        );
    }
    assert!(!product.same_row(&row[..5]), "a row of other columns");

    // A changed product refreshes its stored row in place: only the field
    // that changed is replaced, and what it held is handed back.
    let mut changed = product.clone();
    changed.description = "A brighter lamp".to_owned();
    changed.version = 9;
    let mut refreshed = row.clone();
    let mut replaced = Vec::new();
    changed.refresh_row(&mut refreshed, &mut replaced).unwrap();
    assert_eq!(replaced, [(2, Value::Text("A lamp".into()))]);
    assert_eq!(refreshed[2], Value::Text("A brighter lamp".into()));
    assert_eq!(
        refreshed[1], row[1],
        "the version is left to the unit of work"
    );
    let mut encoded = uow_core::backend::encode_row(&changed).unwrap();
    encoded[1] = row[1].clone();
    assert_eq!(refreshed, encoded);
    replaced.clear();
    product
        .refresh_row(&mut row.clone(), &mut replaced)
        .unwrap();
    assert!(replaced.is_empty(), "nothing changed");

    let line = OrderLine {
        number: LineNumber { value: 7 },
        revision: 2,
        sku: sku("LAMP"),
        quantity: 3,
    };
    let stored = uow_core::backend::encode_row(&line).unwrap();
    assert!(line.same_row(&stored));
    let other = OrderLine {
        quantity: 4,
        ..line.clone()
    };
    assert!(!other.same_row(&stored));
    assert!(Sku("A".into()).same_as(&Value::Text("A".into())));
    assert!(!Sku("A".into()).same_as(&Value::Json("A".into())));
    assert!(LineNumber { value: 7 }.same_as(&Value::Int(7)));
    assert!(!Some(LineNumber { value: 7 }).same_as(&Value::Null));
    assert!(None::<LineNumber>.same_as(&Value::Null));
}

#[test]
fn products_are_equal_by_sku_alone() {
    let mut renamed = lamp();
    renamed.description = "Another lamp".into();
    assert_eq!(lamp(), renamed);
    assert_ne!(lamp(), chair());
    let set: HashSet<Product> = [lamp(), renamed, chair()].into_iter().collect();
    assert_eq!(set.len(), 2);

    let batch = Batch {
        reference: "b1".into(),
        quantity: 1,
    };
    let restocked = Batch {
        quantity: 9,
        ..batch.clone()
    };
    assert_eq!(batch.id(), "b1");
    assert_eq!(batch, restocked);
}

#[tokio::test]
async fn a_committed_product_can_be_found_by_id_category_and_ean() {
    let store = store_with(vec![lamp(), chair()]).await;

    let mut uow = Catalogue::begin(&store).await.unwrap();
    let found = uow.products.get(&sku("LAMP")).await.unwrap().unwrap();
    assert_eq!(found.version, 1);
    assert_eq!(found.description, "A lamp");

    let lighting = uow.products.find_by_category("lighting").await.unwrap();
    assert_eq!(lighting.len(), 1);
    assert_eq!(lighting[0].sku, sku("LAMP"));
    assert_eq!(count_in_category(&mut uow.products, "furniture").await, 1);
    assert_eq!(count_in_category(&mut uow.products, "garden").await, 0);

    let by_ean = uow.products.get_by_ean("4006381333931").await.unwrap();
    assert_eq!(by_ean.map(|p| p.sku.clone()), Some(sku("LAMP")));
    let owned_key = String::from("0000000000000");
    assert!(uow.products.get_by_ean(&owned_key).await.unwrap().is_none());

    let all = uow.products.list(10).await.unwrap();
    let skus: Vec<_> = all.iter().map(|p| p.sku.0.as_str()).collect();
    assert_eq!(skus, ["CHAIR", "LAMP"]);
    assert_eq!(uow.products.list(1).await.unwrap().len(), 1);
    uow.rollback();
}

#[tokio::test]
async fn commit_returns_the_events_the_products_recorded() {
    let store = InMemoryStore::new();
    let mut uow = Allocation::begin(&store).await.unwrap();
    uow.products.add(lamp()).unwrap();
    uow.lines
        .add(OrderLine {
            number: LineNumber { value: 1 },
            revision: 0,
            sku: sku("LAMP"),
            quantity: 2,
        })
        .unwrap();
    let events = uow.commit().await.unwrap();
    assert_eq!(
        events,
        [AllocationEvent::Product(ProductEvent::Listed {
            sku: sku("LAMP")
        })]
    );

    let events = restock(&store, &sku("LAMP"), "batch-1", 20).await.unwrap();
    assert_eq!(
        events,
        [AllocationEvent::Product(ProductEvent::Restocked {
            sku: sku("LAMP"),
            quantity: 20
        })]
    );

    let mut uow = Catalogue::begin(&store).await.unwrap();
    uow.products
        .get(&sku("LAMP"))
        .await
        .unwrap()
        .unwrap()
        .restock("batch-2", 5);
    let events: Vec<AnyEvent> = uow.commit().await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].downcast_ref::<ProductEvent>(),
        Some(&ProductEvent::Restocked {
            sku: sku("LAMP"),
            quantity: 5
        })
    );

    let mut uow = Allocation::begin(&store).await.unwrap();
    let line = uow
        .lines
        .get(&LineNumber { value: 1 })
        .await
        .unwrap()
        .unwrap();
    assert_eq!((line.revision, line.quantity), (1, 2));
    let lamp = uow.products.get(&sku("LAMP")).await.unwrap().unwrap();
    assert_eq!(lamp.available(), 25);
}

#[tokio::test]
async fn the_version_goes_up_only_when_the_product_changed() {
    let store = store_with(vec![lamp()]).await;
    let version = |store: InMemoryStore| async move {
        let mut uow = Catalogue::begin(&store).await.unwrap();
        uow.products
            .get(&sku("LAMP"))
            .await
            .unwrap()
            .unwrap()
            .version
    };

    let mut uow = Catalogue::begin(&store).await.unwrap();
    let _ = uow.products.get(&sku("LAMP")).await.unwrap();
    uow.commit().await.unwrap();
    assert_eq!(version(store.clone()).await, 1, "unchanged: no new version");

    let mut uow = Catalogue::begin(&store).await.unwrap();
    let product = uow.products.get(&sku("LAMP")).await.unwrap().unwrap();
    product.description = "A brass lamp".into();
    uow.commit().await.unwrap();
    assert_eq!(version(store.clone()).await, 2);

    let mut uow = Catalogue::begin(&store).await.unwrap();
    uow.products
        .get(&sku("LAMP"))
        .await
        .unwrap()
        .unwrap()
        .description = "A lamp again".into();
    drop(uow);
    assert_eq!(version(store.clone()).await, 2, "dropped: rolled back");
}

#[tokio::test]
async fn a_concurrent_change_is_a_conflict() {
    let store = store_with(vec![lamp()]).await;
    let mut first = Catalogue::begin(&store).await.unwrap();
    let mut second = Catalogue::begin(&store).await.unwrap();
    first
        .products
        .get(&sku("LAMP"))
        .await
        .unwrap()
        .unwrap()
        .description = "first".into();
    second
        .products
        .get(&sku("LAMP"))
        .await
        .unwrap()
        .unwrap()
        .description = "second".into();
    first.commit().await.unwrap();
    let error = second.commit().await.unwrap_err();
    assert!(error.is_conflict(), "{error}");
}

#[tokio::test]
async fn removing_a_product_deletes_it() {
    let store = store_with(vec![lamp(), chair()]).await;
    let mut uow = Catalogue::begin(&store).await.unwrap();
    uow.products.remove(&sku("CHAIR")).await.unwrap();
    uow.commit().await.unwrap();
    assert_eq!(store.count::<Product>(), 1);
}

#[test]
fn units_of_work_and_services_are_send() {
    fn assert_send<T: Send>(_: T) {}
    fn generic<S: Store>(store: &S) {
        assert_send(Allocation::begin(store));
        assert_send(restock(store, &sku("LAMP"), "b", 1));
    }
    let store = InMemoryStore::new();
    assert_send(Allocation::<InMemoryStore>::begin(&store));
    assert_send(Catalogue::begin(&store));
    assert_send(restock(&store, &sku("LAMP"), "b", 1));
    generic(&store);
}

#[test]
fn a_unit_of_work_shows_its_repositories() {
    let store = InMemoryStore::new();
    let uow = block_on(Catalogue::begin(&store)).unwrap();
    let text = format!("{uow:?}");
    assert!(
        text.starts_with("Catalogue { products: Repository"),
        "{text}"
    );
}

/// Runs a future that does not wait on anything (the in-memory store never does).
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(future)
}

/// The `crate` override, and generated code that names nothing the user's
/// module could shadow.
mod facade {
    #![allow(dead_code)]

    // Things a user's module may define that generated code must not pick up.
    mod uow_core {}
    type Result<T> = std::result::Result<T, ()>;
    struct Vec;
    struct Option;
    trait Future {}
    trait Send {}

    use ::uow_core as uow;

    #[derive(uow::ColumnValue, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
    #[column_value(crate = "uow")]
    pub struct Code(String);

    #[derive(uow::Aggregate, Debug)]
    #[aggregate(crate = "uow", table = "things")]
    pub struct Thing {
        #[aggregate(id)]
        pub code: Code,
        #[aggregate(version)]
        pub version: u32,
        #[aggregate(find_by)]
        pub kind: std::string::String,
    }

    #[derive(uow::Entity)]
    #[entity(crate = "uow")]
    pub struct Part {
        #[entity(id)]
        pub number: u32,
    }

    /// The default `::uow_core` path is not fooled by `mod uow_core {}`.
    #[derive(::uow_core::Aggregate, Debug)]
    pub struct Gadget {
        #[aggregate(id)]
        pub code: Code,
        #[aggregate(version)]
        pub version: u64,
    }

    #[uow::unit_of_work(crate = "uow")]
    pub struct Workshop {
        pub things: Thing,
    }

    #[::uow_core::unit_of_work]
    pub struct Shed {
        pub things: Thing,
        pub gadgets: Gadget,
    }

    #[test]
    fn generated_code_uses_the_given_crate_path() {
        use uow::Aggregate as _;
        assert_eq!(Thing::META.table, "things");
        assert_eq!(Gadget::META.table, "gadget");
        let store = uow::InMemoryStore::new();
        let found = super::block_on(async {
            let mut uow = Workshop::begin(&store).await.unwrap();
            uow.things
                .add(Thing {
                    code: Code("t1".into()),
                    version: 0,
                    kind: "tool".into(),
                })
                .unwrap();
            uow.commit().await.unwrap();
            let mut uow = Shed::begin(&store).await.unwrap();
            uow.things.find_by_kind("tool").await.unwrap().len()
        });
        assert_eq!(found, 1);
    }
}

/// Generated code names everything by absolute path: it compiles where the
/// prelude is not in scope.
mod without_prelude {
    #![no_implicit_prelude]
    #![allow(dead_code)]

    #[derive(::uow_core::ColumnValue, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
    pub struct Code(::std::string::String);

    #[derive(::uow_core::Entity)]
    #[entity(eq_by_id)]
    pub struct Part {
        #[entity(id)]
        pub code: Code,
    }

    #[derive(::uow_core::Aggregate)]
    #[aggregate(eq_by_id)]
    pub struct Machine {
        #[aggregate(id)]
        pub code: Code,
        #[aggregate(version)]
        pub version: i64,
        #[aggregate(unique)]
        pub serial: ::std::option::Option<::std::string::String>,
        #[aggregate(json)]
        pub parts: ::std::vec::Vec<u32>,
        #[aggregate(events)]
        pub events: ::std::vec::Vec<Event>,
    }

    #[derive(Debug)]
    pub enum Event {}

    #[::uow_core::unit_of_work(events = Event)]
    pub struct Factory {
        pub machines: Machine,
    }

    #[::uow_core::unit_of_work]
    pub struct Workshop {
        pub machines: Machine,
    }
}

/// What the macros generate is clean under clippy's pedantic lints and the
/// rustc lints a careful library denies: `cargo clippy -p uow-core
/// --all-targets -- -D warnings` checks this module (and fails on any
/// pedantic lint the generated code triggers).
#[deny(
    clippy::pedantic,
    unused_lifetimes,
    unreachable_pub,
    missing_docs,
    unused_qualifications
)]
pub mod pedantic {
    use serde::{Deserialize, Serialize};
    use uow_core::{Aggregate, ColumnValue, Entity, unit_of_work};

    /// A stock-keeping unit.
    #[derive(ColumnValue, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
    pub struct Code(String);

    /// A shelf position.
    #[derive(ColumnValue, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
    pub struct Shelf {
        number: u32,
    }

    /// A child entity.
    #[derive(Entity, Clone, Debug, Serialize, Deserialize)]
    #[entity(eq_by_id)]
    pub struct Lot {
        /// Its reference.
        #[entity(id)]
        pub reference: String,
    }

    /// What happened to an item.
    #[derive(Clone, Debug)]
    pub enum ItemEvent {
        /// It was stocked.
        Stocked,
    }

    /// An aggregate with every key.
    #[derive(Aggregate, Clone, Debug)]
    #[aggregate(table = "items", eq_by_id, repository = "ItemStore")]
    pub struct Item {
        /// Its code.
        #[aggregate(id)]
        pub code: Code,
        /// Its version.
        #[aggregate(version)]
        pub version: i32,
        /// Its shelf.
        #[aggregate(find_by)]
        pub shelf: Shelf,
        /// Its barcode.
        #[aggregate(unique, column = "ean_code")]
        pub ean: Option<String>,
        /// Its lots.
        #[aggregate(json)]
        pub lots: Vec<Lot>,
        /// Its events.
        #[aggregate(events)]
        pub events: Vec<ItemEvent>,
    }

    /// What happened in the warehouse.
    #[derive(Debug)]
    pub enum WarehouseEvent {
        /// An item event.
        Item(ItemEvent),
    }

    impl From<ItemEvent> for WarehouseEvent {
        fn from(event: ItemEvent) -> Self {
            WarehouseEvent::Item(event)
        }
    }

    /// A unit of work with events in the outbox.
    #[unit_of_work(events = WarehouseEvent)]
    pub struct Warehouse {
        /// The items.
        pub items: Item,
    }

    /// A crate-private unit of work of the default event type.
    #[unit_of_work]
    pub(crate) struct Stocktake {
        pub(crate) items: Item,
    }

    #[test]
    fn the_strictly_linted_catalogue_works() {
        let store = uow_core::InMemoryStore::new();
        let run = async {
            let mut uow = Warehouse::begin(&store).await?;
            let mut item = Item {
                code: Code("LAMP".to_owned()),
                version: 0,
                shelf: Shelf { number: 3 },
                ean: None,
                lots: Vec::new(),
                events: Vec::new(),
            };
            item.events.push(ItemEvent::Stocked);
            uow.items.add(item)?;
            let events = uow.commit().await?;
            let mut stocktake = Stocktake::begin(&store).await?;
            let found = ItemStore::find_by_shelf(&mut stocktake.items, &Shelf { number: 3 })
                .await?
                .len();
            Ok::<_, uow_core::Error>((events.len(), found))
        };
        let (events, found) = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(run)
            .expect("unit of work");
        assert_eq!((events, found), (1, 1));
    }
}
