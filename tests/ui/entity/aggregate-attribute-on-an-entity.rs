use uow_core::Entity;

#[derive(Entity)]
pub struct Batch {
    #[aggregate(id)]
    pub reference: String,
    pub quantity: u32,
}

fn main() {}
