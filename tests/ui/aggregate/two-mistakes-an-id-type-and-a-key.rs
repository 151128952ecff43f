use uow_core::Aggregate;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Sku(String);

#[derive(Aggregate, Debug)]
#[aggregate(table = "products")]
pub struct Product {
    #[aggregate(id)]
    pub sku: Sku,
    #[aggregate(version)]
    pub version: u64,
    #[aggregate(find_by, unique)]
    pub category: String,
}

fn main() {}
