use uow_core::ColumnValue;

#[derive(ColumnValue)]
pub enum Status {
    #[column_value(rename = "")]
    Open,
    Closed,
}

fn main() {}
