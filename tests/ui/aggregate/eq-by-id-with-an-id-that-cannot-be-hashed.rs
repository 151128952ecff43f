use uow_core::{Aggregate, ColumnValue};

#[derive(ColumnValue, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Sku(String);

#[derive(Aggregate)]
#[aggregate(eq_by_id)]
pub struct Product {
    #[aggregate(id)]
    pub sku: Sku,
    #[aggregate(version)]
    pub version: u64,
}

fn main() {}
