//! Compile-time benchmark: 20 aggregates with `#[derive(Aggregate)]` (and
//! `#[derive(ColumnValue)]` id newtypes). Compare with `compile-serde-only`,
//! the same structs with serde's derives only. Generated; keep the two in step.
#![allow(dead_code)]

use serde::{Deserialize, Serialize};
use uow_core::{Aggregate, ColumnValue};

/// A nested value stored as a JSON document.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Line {
    pub sku: String,
    pub quantity: u32,
}

/// The id of a customer.
#[derive(ColumnValue, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct CustomerId(pub i64);

/// Aggregate 1 of 20.
#[derive(Aggregate, Clone, Debug)]
#[aggregate(table = "customers")]
pub struct Customer {
    #[aggregate(id)]
    pub id: CustomerId,
    #[aggregate(version)]
    pub version: u64,
    pub name: String,
    #[aggregate(find_by)]
    pub category: String,
    pub description: Option<String>,
    pub quantity: u32,
    pub amount: i64,
    pub rate: f64,
    pub active: bool,
    pub attachment: Vec<u8>,
    #[aggregate(json)]
    pub lines: Vec<Line>,
}

/// The id of an order.
#[derive(ColumnValue, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct OrderId(pub String);

/// Aggregate 2 of 20.
#[derive(Aggregate, Clone, Debug)]
#[aggregate(table = "orders")]
pub struct Order {
    #[aggregate(id)]
    pub id: OrderId,
    #[aggregate(version)]
    pub version: u64,
    pub name: String,
    #[aggregate(find_by)]
    pub category: String,
    pub description: Option<String>,
    pub quantity: u32,
    pub amount: i64,
    pub rate: f64,
    pub active: bool,
    pub attachment: Vec<u8>,
    #[aggregate(json)]
    pub lines: Vec<Line>,
}

/// The id of an invoice.
#[derive(ColumnValue, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct InvoiceId(pub i64);

/// Aggregate 3 of 20.
#[derive(Aggregate, Clone, Debug)]
#[aggregate(table = "invoices")]
pub struct Invoice {
    #[aggregate(id)]
    pub id: InvoiceId,
    #[aggregate(version)]
    pub version: u64,
    pub name: String,
    #[aggregate(find_by)]
    pub category: String,
    pub description: Option<String>,
    pub quantity: u32,
    pub amount: i64,
    pub rate: f64,
    pub active: bool,
    pub attachment: Vec<u8>,
    #[aggregate(json)]
    pub lines: Vec<Line>,
}

/// The id of a product.
#[derive(ColumnValue, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ProductId(pub String);

/// Aggregate 4 of 20.
#[derive(Aggregate, Clone, Debug)]
#[aggregate(table = "products")]
pub struct Product {
    #[aggregate(id)]
    pub id: ProductId,
    #[aggregate(version)]
    pub version: u64,
    pub name: String,
    #[aggregate(find_by)]
    pub category: String,
    pub description: Option<String>,
    pub quantity: u32,
    pub amount: i64,
    pub rate: f64,
    pub active: bool,
    pub attachment: Vec<u8>,
    #[aggregate(json)]
    pub lines: Vec<Line>,
}

/// The id of a warehouse.
#[derive(ColumnValue, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct WarehouseId(pub i64);

/// Aggregate 5 of 20.
#[derive(Aggregate, Clone, Debug)]
#[aggregate(table = "warehouses")]
pub struct Warehouse {
    #[aggregate(id)]
    pub id: WarehouseId,
    #[aggregate(version)]
    pub version: u64,
    pub name: String,
    #[aggregate(find_by)]
    pub category: String,
    pub description: Option<String>,
    pub quantity: u32,
    pub amount: i64,
    pub rate: f64,
    pub active: bool,
    pub attachment: Vec<u8>,
    #[aggregate(json)]
    pub lines: Vec<Line>,
}

/// The id of a shipment.
#[derive(ColumnValue, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ShipmentId(pub String);

/// Aggregate 6 of 20.
#[derive(Aggregate, Clone, Debug)]
#[aggregate(table = "shipments")]
pub struct Shipment {
    #[aggregate(id)]
    pub id: ShipmentId,
    #[aggregate(version)]
    pub version: u64,
    pub name: String,
    #[aggregate(find_by)]
    pub category: String,
    pub description: Option<String>,
    pub quantity: u32,
    pub amount: i64,
    pub rate: f64,
    pub active: bool,
    pub attachment: Vec<u8>,
    #[aggregate(json)]
    pub lines: Vec<Line>,
}

/// The id of a supplier.
#[derive(ColumnValue, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SupplierId(pub i64);

/// Aggregate 7 of 20.
#[derive(Aggregate, Clone, Debug)]
#[aggregate(table = "suppliers")]
pub struct Supplier {
    #[aggregate(id)]
    pub id: SupplierId,
    #[aggregate(version)]
    pub version: u64,
    pub name: String,
    #[aggregate(find_by)]
    pub category: String,
    pub description: Option<String>,
    pub quantity: u32,
    pub amount: i64,
    pub rate: f64,
    pub active: bool,
    pub attachment: Vec<u8>,
    #[aggregate(json)]
    pub lines: Vec<Line>,
}

/// The id of a payment.
#[derive(ColumnValue, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct PaymentId(pub String);

/// Aggregate 8 of 20.
#[derive(Aggregate, Clone, Debug)]
#[aggregate(table = "payments")]
pub struct Payment {
    #[aggregate(id)]
    pub id: PaymentId,
    #[aggregate(version)]
    pub version: u64,
    pub name: String,
    #[aggregate(find_by)]
    pub category: String,
    pub description: Option<String>,
    pub quantity: u32,
    pub amount: i64,
    pub rate: f64,
    pub active: bool,
    pub attachment: Vec<u8>,
    #[aggregate(json)]
    pub lines: Vec<Line>,
}

/// The id of a refund.
#[derive(ColumnValue, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RefundId(pub i64);

/// Aggregate 9 of 20.
#[derive(Aggregate, Clone, Debug)]
#[aggregate(table = "refunds")]
pub struct Refund {
    #[aggregate(id)]
    pub id: RefundId,
    #[aggregate(version)]
    pub version: u64,
    pub name: String,
    #[aggregate(find_by)]
    pub category: String,
    pub description: Option<String>,
    pub quantity: u32,
    pub amount: i64,
    pub rate: f64,
    pub active: bool,
    pub attachment: Vec<u8>,
    #[aggregate(json)]
    pub lines: Vec<Line>,
}

/// The id of a coupon.
#[derive(ColumnValue, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct CouponId(pub String);

/// Aggregate 10 of 20.
#[derive(Aggregate, Clone, Debug)]
#[aggregate(table = "coupons")]
pub struct Coupon {
    #[aggregate(id)]
    pub id: CouponId,
    #[aggregate(version)]
    pub version: u64,
    pub name: String,
    #[aggregate(find_by)]
    pub category: String,
    pub description: Option<String>,
    pub quantity: u32,
    pub amount: i64,
    pub rate: f64,
    pub active: bool,
    pub attachment: Vec<u8>,
    #[aggregate(json)]
    pub lines: Vec<Line>,
}

/// The id of a review.
#[derive(ColumnValue, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ReviewId(pub i64);

/// Aggregate 11 of 20.
#[derive(Aggregate, Clone, Debug)]
#[aggregate(table = "reviews")]
pub struct Review {
    #[aggregate(id)]
    pub id: ReviewId,
    #[aggregate(version)]
    pub version: u64,
    pub name: String,
    #[aggregate(find_by)]
    pub category: String,
    pub description: Option<String>,
    pub quantity: u32,
    pub amount: i64,
    pub rate: f64,
    pub active: bool,
    pub attachment: Vec<u8>,
    #[aggregate(json)]
    pub lines: Vec<Line>,
}

/// The id of a cart.
#[derive(ColumnValue, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct CartId(pub String);

/// Aggregate 12 of 20.
#[derive(Aggregate, Clone, Debug)]
#[aggregate(table = "carts")]
pub struct Cart {
    #[aggregate(id)]
    pub id: CartId,
    #[aggregate(version)]
    pub version: u64,
    pub name: String,
    #[aggregate(find_by)]
    pub category: String,
    pub description: Option<String>,
    pub quantity: u32,
    pub amount: i64,
    pub rate: f64,
    pub active: bool,
    pub attachment: Vec<u8>,
    #[aggregate(json)]
    pub lines: Vec<Line>,
}

/// The id of a subscription.
#[derive(ColumnValue, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SubscriptionId(pub i64);

/// Aggregate 13 of 20.
#[derive(Aggregate, Clone, Debug)]
#[aggregate(table = "subscriptions")]
pub struct Subscription {
    #[aggregate(id)]
    pub id: SubscriptionId,
    #[aggregate(version)]
    pub version: u64,
    pub name: String,
    #[aggregate(find_by)]
    pub category: String,
    pub description: Option<String>,
    pub quantity: u32,
    pub amount: i64,
    pub rate: f64,
    pub active: bool,
    pub attachment: Vec<u8>,
    #[aggregate(json)]
    pub lines: Vec<Line>,
}

/// The id of an employee.
#[derive(ColumnValue, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct EmployeeId(pub String);

/// Aggregate 14 of 20.
#[derive(Aggregate, Clone, Debug)]
#[aggregate(table = "employees")]
pub struct Employee {
    #[aggregate(id)]
    pub id: EmployeeId,
    #[aggregate(version)]
    pub version: u64,
    pub name: String,
    #[aggregate(find_by)]
    pub category: String,
    pub description: Option<String>,
    pub quantity: u32,
    pub amount: i64,
    pub rate: f64,
    pub active: bool,
    pub attachment: Vec<u8>,
    #[aggregate(json)]
    pub lines: Vec<Line>,
}

/// The id of a department.
#[derive(ColumnValue, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct DepartmentId(pub i64);

/// Aggregate 15 of 20.
#[derive(Aggregate, Clone, Debug)]
#[aggregate(table = "departments")]
pub struct Department {
    #[aggregate(id)]
    pub id: DepartmentId,
    #[aggregate(version)]
    pub version: u64,
    pub name: String,
    #[aggregate(find_by)]
    pub category: String,
    pub description: Option<String>,
    pub quantity: u32,
    pub amount: i64,
    pub rate: f64,
    pub active: bool,
    pub attachment: Vec<u8>,
    #[aggregate(json)]
    pub lines: Vec<Line>,
}

/// The id of a project.
#[derive(ColumnValue, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ProjectId(pub String);

/// Aggregate 16 of 20.
#[derive(Aggregate, Clone, Debug)]
#[aggregate(table = "projects")]
pub struct Project {
    #[aggregate(id)]
    pub id: ProjectId,
    #[aggregate(version)]
    pub version: u64,
    pub name: String,
    #[aggregate(find_by)]
    pub category: String,
    pub description: Option<String>,
    pub quantity: u32,
    pub amount: i64,
    pub rate: f64,
    pub active: bool,
    pub attachment: Vec<u8>,
    #[aggregate(json)]
    pub lines: Vec<Line>,
}

/// The id of a ticket.
#[derive(ColumnValue, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct TicketId(pub i64);

/// Aggregate 17 of 20.
#[derive(Aggregate, Clone, Debug)]
#[aggregate(table = "tickets")]
pub struct Ticket {
    #[aggregate(id)]
    pub id: TicketId,
    #[aggregate(version)]
    pub version: u64,
    pub name: String,
    #[aggregate(find_by)]
    pub category: String,
    pub description: Option<String>,
    pub quantity: u32,
    pub amount: i64,
    pub rate: f64,
    pub active: bool,
    pub attachment: Vec<u8>,
    #[aggregate(json)]
    pub lines: Vec<Line>,
}

/// The id of an asset.
#[derive(ColumnValue, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct AssetId(pub String);

/// Aggregate 18 of 20.
#[derive(Aggregate, Clone, Debug)]
#[aggregate(table = "assets")]
pub struct Asset {
    #[aggregate(id)]
    pub id: AssetId,
    #[aggregate(version)]
    pub version: u64,
    pub name: String,
    #[aggregate(find_by)]
    pub category: String,
    pub description: Option<String>,
    pub quantity: u32,
    pub amount: i64,
    pub rate: f64,
    pub active: bool,
    pub attachment: Vec<u8>,
    #[aggregate(json)]
    pub lines: Vec<Line>,
}

/// The id of a contract.
#[derive(ColumnValue, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ContractId(pub i64);

/// Aggregate 19 of 20.
#[derive(Aggregate, Clone, Debug)]
#[aggregate(table = "contracts")]
pub struct Contract {
    #[aggregate(id)]
    pub id: ContractId,
    #[aggregate(version)]
    pub version: u64,
    pub name: String,
    #[aggregate(find_by)]
    pub category: String,
    pub description: Option<String>,
    pub quantity: u32,
    pub amount: i64,
    pub rate: f64,
    pub active: bool,
    pub attachment: Vec<u8>,
    #[aggregate(json)]
    pub lines: Vec<Line>,
}

/// The id of a vendor.
#[derive(ColumnValue, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct VendorId(pub String);

/// Aggregate 20 of 20.
#[derive(Aggregate, Clone, Debug)]
#[aggregate(table = "vendors")]
pub struct Vendor {
    #[aggregate(id)]
    pub id: VendorId,
    #[aggregate(version)]
    pub version: u64,
    pub name: String,
    #[aggregate(find_by)]
    pub category: String,
    pub description: Option<String>,
    pub quantity: u32,
    pub amount: i64,
    pub rate: f64,
    pub active: bool,
    pub attachment: Vec<u8>,
    #[aggregate(json)]
    pub lines: Vec<Line>,
}
