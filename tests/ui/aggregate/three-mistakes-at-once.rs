use uow_core::Aggregate;

#[derive(Aggregate)]
#[aggregate(table = "select")]
pub struct Product {
    #[aggregate(id)]
    pub sku: String,
    #[aggregate(verison)]
    pub version: u64,
    #[aggregate(json, find_by)]
    pub tags: Vec<String>,
}

fn main() {}
