use uow_core::Aggregate;

pub type Version = String;

#[derive(Aggregate, Debug)]
#[aggregate(table = "products")]
pub struct Product {
    #[aggregate(id)]
    pub sku: String,
    #[aggregate(version)]
    pub version: Version,
}

fn main() {}
