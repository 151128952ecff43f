use uow_core::Aggregate;

#[derive(Aggregate)]
#[aggregate(column = "products")]
pub struct Product {
    #[aggregate(id)]
    pub sku: String,
    #[aggregate(version)]
    pub version: u64,
}

fn main() {}
