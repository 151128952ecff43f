use uow_core::Aggregate;

#[derive(Aggregate)]
pub struct Product(String, u64);

fn main() {}
