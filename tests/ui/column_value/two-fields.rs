use uow_core::ColumnValue;

#[derive(ColumnValue)]
pub struct Money(i64, String);

fn main() {}
