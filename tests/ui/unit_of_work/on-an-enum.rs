use uow_core::unit_of_work;

#[unit_of_work]
pub enum Catalogue {
    Products,
}

fn main() {}
