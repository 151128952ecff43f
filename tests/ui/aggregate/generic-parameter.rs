use uow_core::Aggregate;

#[derive(Aggregate)]
pub struct Product<Id> {
    #[aggregate(id)]
    pub sku: Id,
    #[aggregate(version)]
    pub version: u64,
}

fn main() {}
