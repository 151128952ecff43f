use uow_core::Aggregate;

#[derive(Aggregate)]
pub union Reading {
    pub celsius: f64,
    pub raw: u64,
}

fn main() {}
