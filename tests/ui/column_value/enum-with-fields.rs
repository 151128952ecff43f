use uow_core::ColumnValue;

#[derive(ColumnValue)]
pub enum PaymentMethod {
    Cash,
    Card { last_digits: String },
}

fn main() {}
