use uow_core::Aggregate;

#[derive(Aggregate)]
pub struct Product {
    #[aggregate(id)]
    pub sku: String,
    pub description: String,
}

fn main() {}
