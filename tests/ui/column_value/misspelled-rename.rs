use uow_core::ColumnValue;

#[derive(ColumnValue)]
pub enum Status {
    Open,
    #[column_value(renmae = "closed")]
    Closed,
}

fn main() {}
