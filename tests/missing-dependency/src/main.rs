//! The derive cannot find `uow-core` in this crate's manifest: one error,
//! at the derive, saying to write `crate = "..."`.

use facade::uow_core::Aggregate;

#[derive(Aggregate, Debug)]
#[aggregate(table = "products")]
pub struct Product {
    #[aggregate(id)]
    pub sku: String,
    #[aggregate(version)]
    pub version: u64,
    #[aggregate(find_by)]
    pub category: String,
}

fn main() {}
