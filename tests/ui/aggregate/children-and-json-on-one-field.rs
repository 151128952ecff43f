use uow_core::{Aggregate, Entity};

#[derive(Entity)]
pub struct Batch {
    #[entity(id)]
    pub reference: String,
}

#[derive(Aggregate)]
pub struct Product {
    #[aggregate(id)]
    pub sku: String,
    #[aggregate(version)]
    pub version: u64,
    #[aggregate(children, json)]
    pub batches: Vec<Batch>,
}

fn main() {}
