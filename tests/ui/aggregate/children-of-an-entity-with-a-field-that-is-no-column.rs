use uow_core::{Aggregate, Entity};

pub struct Note {
    pub text: String,
}

#[derive(Entity)]
pub struct Batch {
    #[entity(id)]
    pub reference: String,
    pub note: Note,
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
    let _ = <Product as Aggregate>::META.children.len();
}
