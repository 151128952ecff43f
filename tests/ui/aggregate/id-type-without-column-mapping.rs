use uow_core::Aggregate;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Sku(String);

#[derive(Aggregate)]
pub struct Product {
    #[aggregate(id)]
    pub sku: Sku,
    #[aggregate(version)]
    pub version: u64,
}

fn main() {}
