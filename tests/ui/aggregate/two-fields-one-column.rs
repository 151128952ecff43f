use uow_core::Aggregate;

#[derive(Aggregate)]
pub struct Product {
    #[aggregate(id)]
    pub sku: String,
    #[aggregate(version)]
    pub version: u64,
    pub description: String,
    #[aggregate(column = "description")]
    pub summary: String,
}

fn main() {}
