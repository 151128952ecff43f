use uow_core::ColumnValue;

#[derive(ColumnValue)]
pub enum Status {
    #[column_value(crate = "::uow_core")]
    Open,
    Closed,
}

fn main() {}
