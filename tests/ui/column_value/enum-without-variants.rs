use uow_core::ColumnValue;

#[derive(ColumnValue)]
pub enum Never {}

fn main() {}
