//! `#[cfg]` and `#[cfg_attr(.., cfg(..))]` on unit-of-work fields are
//! honoured wherever the field is used.

use uow_core::{Aggregate, Error, InMemoryStore, UnitOfWork, unit_of_work};

#[derive(Aggregate, Debug)]
#[aggregate(table = "products")]
pub struct Product {
    #[aggregate(id)]
    pub sku: String,
    #[aggregate(version)]
    pub version: u64,
}

#[cfg(any())]
#[derive(Aggregate, Debug)]
#[aggregate(table = "audits")]
pub struct Audit {
    #[aggregate(id)]
    pub id: u64,
    #[aggregate(version)]
    pub version: u64,
}

#[derive(Aggregate, Debug)]
#[aggregate(table = "notes")]
pub struct Note {
    #[aggregate(id)]
    pub id: u64,
    #[aggregate(version)]
    pub version: u64,
}

#[unit_of_work]
pub struct Catalogue {
    pub products: Product,
    #[cfg(any())]
    pub audits: Audit,
    #[cfg_attr(all(), cfg(any()))]
    pub notes: Note,
}

fn main() {
    assert_eq!(Catalogue::<InMemoryStore>::AGGREGATES.len(), 1);
    let store = InMemoryStore::new();
    let run = async {
        let mut uow = Catalogue::begin(&store).await?;
        uow.products.add(Product { sku: "LAMP".into(), version: 0 })?;
        assert!(format!("{uow:?}").contains("products"));
        uow.commit().await?;
        Ok::<(), Error>(())
    };
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(run)
        .unwrap();
}
