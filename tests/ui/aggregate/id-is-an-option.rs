use uow_core::Aggregate;

#[derive(Aggregate, Debug)]
#[aggregate(table = "products")]
pub struct Product {
    #[aggregate(id)]
    pub sku: Option<String>,
    #[aggregate(version)]
    pub version: u64,
}

fn main() {}
