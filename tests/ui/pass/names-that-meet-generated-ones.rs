//! User names that meet names in the generated code: a finder on a field
//! named `column` (the hidden lookup must not hide it), aggregates named `Q`
//! and `S` (the finder's key and the store parameter), a field named like
//! the unit of work's state, and a repository trait renamed because its
//! default name is taken.

use uow_core::{Aggregate, Error, InMemoryStore, unit_of_work};

pub trait ProductRepository {}

#[derive(Aggregate, Debug)]
#[aggregate(table = "products", repository = "ProductStore")]
pub struct Product {
    #[aggregate(id)]
    pub sku: String,
    #[aggregate(version)]
    pub version: u64,
    #[aggregate(find_by, column = "position")]
    pub column: String,
    #[aggregate(find_by)]
    pub shelf: String,
}

#[derive(Aggregate, Debug)]
#[aggregate(table = "qs")]
pub struct Q {
    #[aggregate(id)]
    pub id: u64,
    #[aggregate(version)]
    pub version: u64,
    #[aggregate(find_by)]
    pub label: String,
}

#[derive(Aggregate, Debug)]
#[aggregate(table = "ss")]
pub struct S {
    #[aggregate(id)]
    pub id: u64,
    #[aggregate(version)]
    pub version: u64,
}

#[unit_of_work]
pub struct Catalogue {
    pub products: Product,
    pub qs: Q,
    pub unit_state: S,
}

fn main() {
    let store = InMemoryStore::new();
    let run = async {
        let mut uow = Catalogue::begin(&store).await?;
        uow.products.add(Product {
            sku: "LAMP".into(),
            version: 0,
            column: "A1".into(),
            shelf: "B2".into(),
        })?;
        uow.qs.add(Q { id: 1, version: 0, label: "q".into() })?;
        uow.unit_state.add(S { id: 1, version: 0 })?;
        uow.commit().await?;

        let mut uow = Catalogue::begin(&store).await?;
        // The generated finder, on the column `position`: the value "A1"
        // is found there and not in `shelf`.
        assert_eq!(uow.products.find_by_column("A1").await?.len(), 1);
        assert_eq!(uow.products.find_by_column("B2").await?.len(), 0);
        assert_eq!(uow.qs.find_by_label("q").await?.len(), 1);
        assert!(uow.unit_state.get(&1).await?.is_some());
        Ok::<(), Error>(())
    };
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(run)
        .unwrap();
}
