use uow_core::Aggregate;

#[derive(Debug, serde::Serialize)]
pub struct Dimensions {
    pub width: u32,
}

#[derive(Aggregate, Debug)]
#[aggregate(table = "products")]
pub struct Product {
    #[aggregate(id)]
    pub sku: String,
    #[aggregate(version)]
    pub version: u64,
    #[aggregate(json)]
    pub dimensions: Dimensions,
}

fn main() {}
