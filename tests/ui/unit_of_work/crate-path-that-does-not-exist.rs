use uow_core::{Aggregate, unit_of_work};

#[derive(Aggregate, Debug)]
#[aggregate(table = "products")]
pub struct Product {
    #[aggregate(id)]
    pub sku: String,
    #[aggregate(version)]
    pub version: u64,
}

#[unit_of_work(crate = "my_app::uow")]
pub struct Catalogue {
    pub products: Product,
}

fn main() {}
