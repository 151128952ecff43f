use uow_core::ColumnValue;

#[derive(ColumnValue)]
pub enum Status {
    Open,
    #[column_value(rename = "Open")]
    Reopened,
}

fn main() {}
