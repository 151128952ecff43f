use uow_core::Aggregate;

#[derive(Aggregate)]
pub struct Product {
    pub sku: String,
    #[aggregate(version)]
    pub version: u64,
}

fn main() {}
