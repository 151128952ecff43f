use uow_core::ColumnValue;

#[derive(ColumnValue)]
pub struct Id<T>(T);

fn main() {}
