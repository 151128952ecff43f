use uow_core::Aggregate;

#[derive(Aggregate)]
#[aggregate(table = "product list")]
pub struct Product {
    #[aggregate(id)]
    pub sku: String,
    #[aggregate(version)]
    pub version: u64,
}

fn main() {}
