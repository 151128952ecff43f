use uow_core::ColumnValue;

#[derive(ColumnValue)]
pub union Bits {
    int: u32,
    float: f32,
}

fn main() {}
