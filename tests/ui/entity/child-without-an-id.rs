use uow_core::{Aggregate, Entity};

#[derive(Entity)]
pub struct Batch {
    pub reference: String,
    pub quantity: u32,
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

fn main() {}
