use uow_core::Aggregate;

pub type MaybeSku = Option<String>;

#[derive(Aggregate, Debug)]
#[aggregate(table = "products")]
pub struct Product {
    #[aggregate(id)]
    pub sku: MaybeSku,
    #[aggregate(version)]
    pub version: u64,
}

fn main() {
    // Used, so that its metadata is evaluated (by `cargo build`).
    let _ = <Product as Aggregate>::META.columns.len();
}
