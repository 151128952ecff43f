use uow_core::{Aggregate, InMemoryStore, unit_of_work};

#[derive(Aggregate, Debug)]
pub struct Product {
    #[aggregate(id)]
    pub sku: String,
    #[aggregate(version)]
    pub version: u64,
    #[aggregate(find_by)]
    pub category: String,
    pub description: String,
}

#[unit_of_work]
pub struct Catalogue {
    pub products: Product,
}

async fn lamps(store: &InMemoryStore) -> Result<(), uow_core::Error> {
    let mut uow = Catalogue::begin(store).await?;
    let _ = uow.products.find_by_description("lamp").await?;
    Ok(())
}

fn main() {}
