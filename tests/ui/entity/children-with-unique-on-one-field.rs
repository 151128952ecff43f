use uow_core::Entity;

#[derive(Entity)]
pub struct Allocation {
    #[entity(id)]
    pub order: String,
}

#[derive(Entity)]
pub struct Batch {
    #[entity(id)]
    pub reference: String,
    #[entity(children, unique)]
    pub allocations: Vec<Allocation>,
}

fn main() {}
