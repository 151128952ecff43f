use uow_core::{Aggregate, unit_of_work};

#[derive(Debug)]
pub enum ProductEvent {
    Listed,
}

#[derive(Debug)]
pub enum CatalogueEvent {
    ProductListed,
}

#[derive(Aggregate, Debug)]
pub struct Product {
    #[aggregate(id)]
    pub sku: String,
    #[aggregate(version)]
    pub version: u64,
    #[aggregate(events)]
    pub events: Vec<ProductEvent>,
}

#[unit_of_work(events = CatalogueEvent)]
pub struct Catalogue {
    pub products: Product,
}

fn main() {}
