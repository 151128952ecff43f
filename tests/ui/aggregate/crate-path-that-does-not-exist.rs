use uow_core::Aggregate;

#[derive(Aggregate, Debug)]
#[aggregate(table = "products", crate = "my_app::uow")]
pub struct Product {
    #[aggregate(id)]
    pub sku: String,
    #[aggregate(version)]
    pub version: u64,
    #[aggregate(find_by)]
    pub category: String,
}

fn main() {}
