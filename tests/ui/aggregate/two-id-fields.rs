use uow_core::Aggregate;

#[derive(Aggregate)]
pub struct Product {
    #[aggregate(id)]
    pub sku: String,
    #[aggregate(id)]
    pub ean: String,
    #[aggregate(version)]
    pub version: u64,
}

fn main() {}
