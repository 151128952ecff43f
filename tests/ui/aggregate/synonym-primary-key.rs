use uow_core::Aggregate;

#[derive(Aggregate)]
pub struct Product {
    #[aggregate(primary_key)]
    pub sku: String,
    #[aggregate(version)]
    pub version: u64,
}

fn main() {}
