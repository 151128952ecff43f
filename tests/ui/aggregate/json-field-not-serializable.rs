use serde::Deserialize;
use uow_core::Aggregate;

#[derive(Deserialize)]
pub struct Dimensions {
    pub width: u32,
    pub height: u32,
}

#[derive(Aggregate)]
pub struct Product {
    #[aggregate(id)]
    pub sku: String,
    #[aggregate(version)]
    pub version: u64,
    #[aggregate(json)]
    pub dimensions: Dimensions,
}

fn main() {}
