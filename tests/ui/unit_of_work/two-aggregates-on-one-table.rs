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
#[aggregate(table = "products")]
pub struct Listing {
    #[aggregate(id)]
    pub sku: String,
    #[aggregate(version)]
    pub version: u64,
    pub title: String,
}

#[unit_of_work]
pub struct Catalogue {
    pub products: Product,
    pub listings: Listing,
}

fn main() {
    let _ = Catalogue::begin(&InMemoryStore::new());
}
