use uow_core::Aggregate;

#[derive(Aggregate)]
pub struct Product {
    #[aggregate]
    pub sku: String,
    #[aggregate(version)]
    pub version: u64,
}

fn main() {}
