use uow_core::{Aggregate, InMemoryStore, unit_of_work};

#[derive(Aggregate, Debug)]
#[aggregate(table = "products")]
pub struct Product {
    #[aggregate(id)]
    pub sku: String,
    #[aggregate(version)]
    pub version: u64,
}

pub type Item = Product;

#[unit_of_work]
pub struct Catalogue {
    pub products: Product,
    pub items: Item,
}

fn main() {
    let _ = Catalogue::begin(&InMemoryStore::new());
}
