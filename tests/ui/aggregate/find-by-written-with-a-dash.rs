use uow_core::Aggregate;

#[derive(Aggregate)]
pub struct Product {
    #[aggregate(id)]
    pub sku: String,
    #[aggregate(version)]
    pub version: u64,
    #[aggregate(find-by)]
    pub category: String,
}

fn main() {}
