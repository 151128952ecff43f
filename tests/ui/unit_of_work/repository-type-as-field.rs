use uow_core::{Aggregate, InMemoryStore, Repository, unit_of_work};

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
    pub products: Repository<Product, InMemoryStore>,
}

fn main() {}
