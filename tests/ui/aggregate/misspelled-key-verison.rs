use uow_core::Aggregate;

#[derive(Aggregate)]
pub struct Product {
    #[aggregate(id)]
    pub sku: String,
    #[aggregate(verison)]
    pub version: u64,
}

fn main() {}
