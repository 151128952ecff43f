use uow_core::{Aggregate, Entity};

#[derive(Aggregate, Entity, Debug)]
#[aggregate(table = "products")]
pub struct Product {
    #[aggregate(id)]
    pub sku: String,
    #[aggregate(version)]
    pub version: u64,
}

fn main() {}
