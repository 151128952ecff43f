use uow_core::Entity;

#[derive(Entity)]
pub enum Batch {
    InStock { reference: String },
    Shipped { reference: String },
}

fn main() {}
