use uow_core::Aggregate;

#[derive(Aggregate)]
pub struct Product {
    #[aggregate(id)]
    pub sku: String,
    #[aggregate(version)]
    pub version: u64,
    #[aggregate(children)]
    pub tags: Vec<String>,
}

fn main() {
    let _ = <Product as Aggregate>::META.children.len();
}
