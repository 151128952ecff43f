use uow_core::{Aggregate, InMemoryStore, unit_of_work};

#[derive(Aggregate, Debug)]
#[aggregate(table = "products")]
pub struct Product {
    #[aggregate(id)]
    pub sku: String,
    #[aggregate(version)]
    pub version: u64,
}

#[derive(Aggregate, Debug)]
#[aggregate(table = "orders")]
pub struct Order {
    #[aggregate(id)]
    pub id: u64,
    #[aggregate(version)]
    pub version: u64,
}

#[unit_of_work]
pub struct Catalogue {
    pub products: Product,
}

async fn add(store: &InMemoryStore) -> Result<(), uow_core::Error> {
    let mut uow = Catalogue::begin(store).await?;
    uow.products.add(Order { id: 1, version: 0 })?;
    Ok(())
}

fn main() {
    let _ = add;
}
