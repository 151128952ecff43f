use uow_core::{Aggregate, Entity};

#[derive(Entity)]
pub struct Batch {
    #[entity(id)]
    pub reference: String,
    pub position: u32,
}

#[derive(Aggregate)]
pub struct Product {
    #[aggregate(id)]
    pub sku: String,
    #[aggregate(version)]
    pub version: u64,
    #[aggregate(children)]
    pub batches: Vec<Batch>,
}

fn main() {
    let _ = <Product as Aggregate>::META.children[0].child.columns.len();
}
