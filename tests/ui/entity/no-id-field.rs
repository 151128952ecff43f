use uow_core::Entity;

#[derive(Entity)]
pub struct Batch {
    pub reference: String,
    pub quantity: u32,
}

fn main() {}
