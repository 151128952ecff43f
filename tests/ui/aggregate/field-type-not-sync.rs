use std::cell::Cell;

use uow_core::Aggregate;

#[derive(Aggregate, Debug)]
#[aggregate(table = "products")]
pub struct Product {
    #[aggregate(id)]
    pub sku: String,
    #[aggregate(version)]
    pub version: u64,
    #[aggregate(json)]
    pub views: Cell<u32>,
}

fn main() {}
