use uow_core::{Aggregate, InMemoryStore, unit_of_work};

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

async fn open(store: InMemoryStore) -> Result<(), uow_core::Error> {
    let _uow = Catalogue::begin(store).await?;
    Ok(())
}

fn main() {
    let _ = open;
}
