use uow_core::Aggregate;

#[derive(Aggregate)]
pub struct Product {
    #[aggregate(id, find_by)]
    pub sku: String,
    #[aggregate(version)]
    pub version: u64,
}

fn main() {}
