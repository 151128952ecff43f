use uow_core::Aggregate;

#[derive(Aggregate)]
pub struct Product;

fn main() {}
