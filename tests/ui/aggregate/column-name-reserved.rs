use uow_core::Aggregate;

#[derive(Aggregate)]
pub struct Product {
    #[aggregate(id)]
    pub sku: String,
    #[aggregate(version)]
    pub version: u64,
    #[aggregate(column = "select")]
    pub selection: String,
}

fn main() {}
