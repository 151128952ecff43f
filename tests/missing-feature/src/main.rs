//! `OffsetDateTime` is stored only with uow-core's `time` feature, which
//! this crate does not enable: one error, at the field's type, naming it.

use uow_core::Aggregate;

#[derive(Aggregate, Debug)]
#[aggregate(table = "products")]
pub struct Product {
    #[aggregate(id)]
    pub sku: String,
    #[aggregate(version)]
    pub version: u64,
    pub listed_at: time::OffsetDateTime,
}

fn main() {}
