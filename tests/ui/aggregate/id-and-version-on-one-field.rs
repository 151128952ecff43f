use uow_core::Aggregate;

#[derive(Aggregate)]
pub struct Counter {
    #[aggregate(id, version)]
    pub id: u64,
    pub count: u32,
}

fn main() {}
