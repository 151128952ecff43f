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
#[aggregate(table = "audits")]
pub struct Audit {
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
}

async fn audit(store: &InMemoryStore) -> Result<(), uow_core::Error> {
    let mut uow = Catalogue::begin(store).await?;
    let _ = uow.audits.get(&1).await?;
    Ok(())
}

fn main() {
    let _ = audit;
}
