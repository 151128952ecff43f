use uow_core::Aggregate;

#[derive(Debug)]
pub enum Status {
    Draft,
    Listed,
}

#[derive(Aggregate, Debug)]
#[aggregate(table = "products")]
pub struct Product {
    #[aggregate(id)]
    pub sku: String,
    #[aggregate(version)]
    pub version: u64,
    pub status: Status,
}

fn main() {}
