use uow_core::Aggregate;

#[derive(Aggregate)]
pub struct Product<'a> {
    #[aggregate(id)]
    pub sku: String,
    #[aggregate(version)]
    pub version: u64,
    pub description: &'a str,
}

fn main() {}
