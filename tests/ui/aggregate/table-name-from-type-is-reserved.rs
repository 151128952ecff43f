use uow_core::Aggregate;

#[derive(Aggregate)]
pub struct Order {
    #[aggregate(id)]
    pub reference: String,
    #[aggregate(version)]
    pub version: u64,
}

fn main() {}
