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

async fn get(store: &InMemoryStore) -> Result<(), uow_core::Error> {
    let mut uow = Catalogue::begin(store).await?;
    let _ = uow.products.get(&42).await?;
    Ok(())
}

fn main() {
    let _ = get;
}
