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

async fn undo(store: &InMemoryStore) -> Result<(), uow_core::Error> {
    let mut uow = Catalogue::begin(store).await?;
    uow.rollback();
    let _ = uow.products.get(&"LAMP".to_owned()).await?;
    Ok(())
}

fn main() {
    let _ = undo;
}
