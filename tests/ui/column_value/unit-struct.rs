use uow_core::ColumnValue;

#[derive(ColumnValue)]
pub struct Nothing;

fn main() {}
