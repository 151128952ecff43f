use uow_core::Entity;

#[derive(Entity)]
pub struct Batch {
    #[entity(id)]
    pub reference: String,
    #[entity(id)]
    pub code: String,
}

fn main() {}
