//! A version field's type is checked by trait, not by spelling.

use uow_core::{Aggregate, Error, InMemoryStore, unit_of_work};

pub type Version = u64;

#[derive(Aggregate, Debug)]
#[aggregate(table = "products")]
pub struct Product {
    #[aggregate(id)]
    pub sku: String,
    #[aggregate(version)]
    pub version: Version,
}

#[derive(Aggregate, Debug)]
#[aggregate(table = "orders")]
pub struct Order {
    #[aggregate(id)]
    pub id: u64,
    #[aggregate(version)]
    pub version: std::primitive::i32,
}

#[unit_of_work]
pub struct Shop {
    pub products: Product,
    pub orders: Order,
}

fn main() {
    let store = InMemoryStore::new();
    let run = async {
        let mut uow = Shop::begin(&store).await?;
        uow.products.add(Product { sku: "LAMP".into(), version: 0 })?;
        uow.orders.add(Order { id: 7, version: 0 })?;
        uow.commit().await?;
        let mut uow = Shop::begin(&store).await?;
        assert_eq!(uow.products.get(&"LAMP".to_owned()).await?.map(|p| p.version), Some(1));
        assert_eq!(uow.orders.get(&7).await?.map(|o| o.version), Some(1));
        Ok::<(), Error>(())
    };
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(run)
        .unwrap();
}
