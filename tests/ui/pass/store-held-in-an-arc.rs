//! The store shared behind an `Arc`, as web services hold their state, and
//! a `'static` reference to a store: both are stores.

use std::sync::Arc;

use uow_core::{Aggregate, Error, InMemoryStore, unit_of_work};

#[derive(Aggregate, Debug)]
#[aggregate(table = "products")]
pub struct Product {
    #[aggregate(id)]
    pub sku: String,
    #[aggregate(version)]
    pub version: u64,
}

#[unit_of_work]
pub struct Catalogue {
    pub products: Product,
}

pub struct AppState {
    pub store: Arc<InMemoryStore>,
}

fn main() {
    let state = AppState {
        store: Arc::new(InMemoryStore::new()),
    };
    let leaked: &'static InMemoryStore = Box::leak(Box::new(InMemoryStore::new()));
    let run = async {
        let mut uow = Catalogue::begin(&state.store).await?;
        uow.products.add(Product { sku: "LAMP".into(), version: 0 })?;
        uow.commit().await?;
        let mut uow = Catalogue::begin(&state.store).await?;
        assert!(uow.products.get(&"LAMP".to_owned()).await?.is_some());

        let mut uow = Catalogue::begin(&leaked).await?;
        assert!(uow.products.get(&"LAMP".to_owned()).await?.is_none());
        Ok::<(), Error>(())
    };
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(run)
        .unwrap();
}
