use uow_core::Aggregate;

pub enum ProductEvent {
    Listed,
}

#[derive(Aggregate)]
pub struct Product {
    #[aggregate(id)]
    pub sku: String,
    #[aggregate(version)]
    pub version: u64,
    #[aggregate(events, unique)]
    pub events: Vec<ProductEvent>,
}

fn main() {}
