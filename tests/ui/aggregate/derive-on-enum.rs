use uow_core::Aggregate;

#[derive(Aggregate)]
pub enum Product {
    Lamp { sku: String, version: u64 },
    Chair { sku: String, version: u64 },
}

fn main() {}
