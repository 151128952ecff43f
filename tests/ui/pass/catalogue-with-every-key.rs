//! A product catalogue using every key of the macros, stored and loaded
//! through the in-memory store.

use serde::{Deserialize, Serialize};
use uow_core::{Aggregate, ColumnValue, Entity, InMemoryStore, unit_of_work};

#[derive(ColumnValue, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sku(String);

#[derive(ColumnValue, Clone, Copy, Debug, PartialEq)]
pub struct Price {
    cents: i64,
}

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
}

#[derive(Aggregate, Clone, Debug)]
#[aggregate(table = "products", eq_by_id)]
pub struct Product {
    #[aggregate(id)]
    pub sku: Sku,
    #[aggregate(version)]
    pub version: u64,
    pub description: String,
    pub price: Price,
    #[aggregate(find_by)]
    pub category: String,
    #[aggregate(unique, column = "ean_code")]
    pub ean: Option<String>,
    #[aggregate(json)]
    pub batches: Vec<Batch>,
    #[aggregate(events)]
    pub events: Vec<ProductEvent>,
}

#[derive(Aggregate, Clone, Debug)]
#[aggregate(table = "warehouses")]
pub struct Warehouse {
    #[aggregate(id)]
    pub code: i64,
    #[aggregate(version)]
    pub revision: i32,
    pub city: String,
}

#[derive(Debug, PartialEq)]
pub enum CatalogueEvent {
    Listed(Sku),
}

impl From<ProductEvent> for CatalogueEvent {
    fn from(event: ProductEvent) -> Self {
        match event {
            ProductEvent::Listed { sku } => CatalogueEvent::Listed(sku),
        }
    }
}

/// The catalogue and its warehouses, changed together.
#[unit_of_work(events = CatalogueEvent)]
pub struct Catalogue {
    pub products: Product,
    pub warehouses: Warehouse,
}

async fn scenario() -> Result<(), uow_core::Error> {
    let store = InMemoryStore::new();
    let mut uow = Catalogue::begin(&store).await?;
    uow.products.add(Product {
        sku: Sku("LAMP".into()),
        version: 0,
        description: "A brass lamp".into(),
        price: Price { cents: 4_200 },
        category: "lighting".into(),
        ean: Some("4006381333931".into()),
        batches: vec![Batch {
            reference: "b1".into(),
            quantity: 3,
        }],
        events: vec![ProductEvent::Listed {
            sku: Sku("LAMP".into()),
        }],
    })?;
    uow.warehouses.add(Warehouse {
        code: 1,
        revision: 0,
        city: "Lyon".into(),
    })?;
    let events = uow.commit().await?;
    assert_eq!(events, vec![CatalogueEvent::Listed(Sku("LAMP".into()))]);

    let mut uow = Catalogue::begin(&store).await?;
    assert_eq!(uow.products.find_by_category("lighting").await?.len(), 1);
    let lamp = uow
        .products
        .get_by_ean("4006381333931")
        .await?
        .expect("stored");
    assert_eq!(lamp.version, 1);
    assert_eq!(lamp.batches[0].quantity, 3);
    uow.rollback();
    Ok(())
}

fn main() {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime")
        .block_on(scenario())
        .expect("the scenario passes");
}
