//! Raw identifiers as field names, renamed columns and the smaller version
//! integers.

use uow_core::{Aggregate, unit_of_work};

#[derive(Aggregate, Debug)]
#[aggregate(table = "shipments")]
pub struct Shipment {
    #[aggregate(id, column = "shipment_id")]
    pub r#ref: i64,
    #[aggregate(version)]
    pub r#version: u32,
    #[aggregate(find_by)]
    pub r#type: String,
    #[aggregate(column = "eta_days")]
    pub eta: Option<i16>,
    pub weight: f64,
    pub fragile: bool,
    pub label: Vec<u8>,
}

#[derive(Aggregate, Debug)]
pub struct OrderLine {
    #[aggregate(id)]
    pub id: uuid::Uuid,
    #[aggregate(version)]
    pub version: i64,
    pub placed_at: chrono::DateTime<chrono::Utc>,
    pub due: time::Date,
    pub amount: rust_decimal::Decimal,
}

#[unit_of_work]
pub struct Logistics {
    pub shipments: Shipment,
    pub lines: OrderLine,
}

fn main() {
    use uow_core::Aggregate as _;
    assert_eq!(Shipment::META.table, "shipments");
    assert_eq!(Shipment::META.columns[0].name, "shipment_id");
    assert_eq!(OrderLine::META.table, "order_line");
    let store = uow_core::InMemoryStore::new();
    let _ = Logistics::begin(&store);
}
