use uow_core::Entity;

#[derive(Entity)]
pub struct Batch {
    #[entity(id)]
    pub reference: String,
    #[entity(version)]
    pub version: u64,
}

fn main() {}
