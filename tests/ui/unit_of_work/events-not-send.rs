use std::rc::Rc;

use uow_core::{Aggregate, InMemoryStore, unit_of_work};

#[derive(Debug)]
pub enum CatalogueEvent {
    Listed(Rc<String>),
}

#[derive(Aggregate, Debug)]
#[aggregate(table = "products")]
pub struct Product {
    #[aggregate(id)]
    pub sku: String,
    #[aggregate(version)]
    pub version: u64,
}

#[unit_of_work(events = CatalogueEvent)]
pub struct Catalogue {
    pub products: Product,
}

async fn commit(store: &InMemoryStore) -> Result<(), uow_core::Error> {
    let uow = Catalogue::begin(store).await?;
    uow.commit().await?;
    Ok(())
}

fn main() {
    let _ = commit;
}
