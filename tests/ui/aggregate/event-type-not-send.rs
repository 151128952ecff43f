use std::rc::Rc;

use uow_core::Aggregate;

#[derive(Debug)]
pub enum ProductEvent {
    Listed(Rc<String>),
}

#[derive(Aggregate, Debug)]
#[aggregate(table = "products")]
pub struct Product {
    #[aggregate(id)]
    pub sku: String,
    #[aggregate(version)]
    pub version: u64,
    #[aggregate(events)]
    pub events: Vec<ProductEvent>,
}

fn main() {}
