use uow_core::Aggregate;

#[derive(Aggregate, Debug)]
#[aggregate(table = "products", repository = "Product Repo")]
pub struct Product {
    #[aggregate(id)]
    pub sku: String,
    #[aggregate(version)]
    pub version: u64,
}

fn main() {}
