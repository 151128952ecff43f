use uow_core::Entity;

#[derive(Entity, Debug)]
pub struct Batch {
    #[entity(id)]
    pub reference: String,
    #[aggregate(version)]
    pub version: u64,
}

fn main() {}
