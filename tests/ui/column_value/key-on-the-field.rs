use uow_core::ColumnValue;

#[derive(ColumnValue)]
pub struct Sku(#[column_value(rename = "code")] String);

fn main() {}
