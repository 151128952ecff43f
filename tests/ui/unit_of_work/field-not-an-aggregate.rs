use uow_core::unit_of_work;

#[derive(Debug)]
pub struct Product {
    pub sku: String,
    pub version: u64,
}

#[unit_of_work]
pub struct Catalogue {
    pub products: Product,
}

fn main() {}
