use uow_core::ColumnValue;

#[derive(ColumnValue)]
pub enum Colour {
    Red,
    Green,
}

fn main() {}
