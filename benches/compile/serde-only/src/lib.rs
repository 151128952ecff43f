//! Compile-time benchmark: the structs of `compile-derived` with serde's
//! `Serialize` and `Deserialize` derives only. Generated; keep the two in step.
#![allow(dead_code)]

use serde::{Deserialize, Serialize};

/// A nested value stored as a JSON document.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Line {
    pub sku: String,
    pub quantity: u32,
}

/// The id of a customer.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct CustomerId(pub i64);

/// Aggregate 1 of 20.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Customer {
    pub id: CustomerId,
    pub version: u64,
    pub name: String,
    pub category: String,
    pub description: Option<String>,
    pub quantity: u32,
    pub amount: i64,
    pub rate: f64,
    pub active: bool,
    pub attachment: Vec<u8>,
    pub lines: Vec<Line>,
}

/// The id of an order.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct OrderId(pub String);

/// Aggregate 2 of 20.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Order {
    pub id: OrderId,
    pub version: u64,
    pub name: String,
    pub category: String,
    pub description: Option<String>,
    pub quantity: u32,
    pub amount: i64,
    pub rate: f64,
    pub active: bool,
    pub attachment: Vec<u8>,
    pub lines: Vec<Line>,
}

/// The id of an invoice.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct InvoiceId(pub i64);

/// Aggregate 3 of 20.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Invoice {
    pub id: InvoiceId,
    pub version: u64,
    pub name: String,
    pub category: String,
    pub description: Option<String>,
    pub quantity: u32,
    pub amount: i64,
    pub rate: f64,
    pub active: bool,
    pub attachment: Vec<u8>,
    pub lines: Vec<Line>,
}

/// The id of a product.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ProductId(pub String);

/// Aggregate 4 of 20.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Product {
    pub id: ProductId,
    pub version: u64,
    pub name: String,
    pub category: String,
    pub description: Option<String>,
    pub quantity: u32,
    pub amount: i64,
    pub rate: f64,
    pub active: bool,
    pub attachment: Vec<u8>,
    pub lines: Vec<Line>,
}

/// The id of a warehouse.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct WarehouseId(pub i64);

/// Aggregate 5 of 20.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Warehouse {
    pub id: WarehouseId,
    pub version: u64,
    pub name: String,
    pub category: String,
    pub description: Option<String>,
    pub quantity: u32,
    pub amount: i64,
    pub rate: f64,
    pub active: bool,
    pub attachment: Vec<u8>,
    pub lines: Vec<Line>,
}

/// The id of a shipment.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ShipmentId(pub String);

/// Aggregate 6 of 20.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Shipment {
    pub id: ShipmentId,
    pub version: u64,
    pub name: String,
    pub category: String,
    pub description: Option<String>,
    pub quantity: u32,
    pub amount: i64,
    pub rate: f64,
    pub active: bool,
    pub attachment: Vec<u8>,
    pub lines: Vec<Line>,
}

/// The id of a supplier.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SupplierId(pub i64);

/// Aggregate 7 of 20.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Supplier {
    pub id: SupplierId,
    pub version: u64,
    pub name: String,
    pub category: String,
    pub description: Option<String>,
    pub quantity: u32,
    pub amount: i64,
    pub rate: f64,
    pub active: bool,
    pub attachment: Vec<u8>,
    pub lines: Vec<Line>,
}

/// The id of a payment.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct PaymentId(pub String);

/// Aggregate 8 of 20.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Payment {
    pub id: PaymentId,
    pub version: u64,
    pub name: String,
    pub category: String,
    pub description: Option<String>,
    pub quantity: u32,
    pub amount: i64,
    pub rate: f64,
    pub active: bool,
    pub attachment: Vec<u8>,
    pub lines: Vec<Line>,
}

/// The id of a refund.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RefundId(pub i64);

/// Aggregate 9 of 20.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Refund {
    pub id: RefundId,
    pub version: u64,
    pub name: String,
    pub category: String,
    pub description: Option<String>,
    pub quantity: u32,
    pub amount: i64,
    pub rate: f64,
    pub active: bool,
    pub attachment: Vec<u8>,
    pub lines: Vec<Line>,
}

/// The id of a coupon.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct CouponId(pub String);

/// Aggregate 10 of 20.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Coupon {
    pub id: CouponId,
    pub version: u64,
    pub name: String,
    pub category: String,
    pub description: Option<String>,
    pub quantity: u32,
    pub amount: i64,
    pub rate: f64,
    pub active: bool,
    pub attachment: Vec<u8>,
    pub lines: Vec<Line>,
}

/// The id of a review.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ReviewId(pub i64);

/// Aggregate 11 of 20.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Review {
    pub id: ReviewId,
    pub version: u64,
    pub name: String,
    pub category: String,
    pub description: Option<String>,
    pub quantity: u32,
    pub amount: i64,
    pub rate: f64,
    pub active: bool,
    pub attachment: Vec<u8>,
    pub lines: Vec<Line>,
}

/// The id of a cart.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct CartId(pub String);

/// Aggregate 12 of 20.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Cart {
    pub id: CartId,
    pub version: u64,
    pub name: String,
    pub category: String,
    pub description: Option<String>,
    pub quantity: u32,
    pub amount: i64,
    pub rate: f64,
    pub active: bool,
    pub attachment: Vec<u8>,
    pub lines: Vec<Line>,
}

/// The id of a subscription.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SubscriptionId(pub i64);

/// Aggregate 13 of 20.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Subscription {
    pub id: SubscriptionId,
    pub version: u64,
    pub name: String,
    pub category: String,
    pub description: Option<String>,
    pub quantity: u32,
    pub amount: i64,
    pub rate: f64,
    pub active: bool,
    pub attachment: Vec<u8>,
    pub lines: Vec<Line>,
}

/// The id of an employee.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct EmployeeId(pub String);

/// Aggregate 14 of 20.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Employee {
    pub id: EmployeeId,
    pub version: u64,
    pub name: String,
    pub category: String,
    pub description: Option<String>,
    pub quantity: u32,
    pub amount: i64,
    pub rate: f64,
    pub active: bool,
    pub attachment: Vec<u8>,
    pub lines: Vec<Line>,
}

/// The id of a department.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct DepartmentId(pub i64);

/// Aggregate 15 of 20.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Department {
    pub id: DepartmentId,
    pub version: u64,
    pub name: String,
    pub category: String,
    pub description: Option<String>,
    pub quantity: u32,
    pub amount: i64,
    pub rate: f64,
    pub active: bool,
    pub attachment: Vec<u8>,
    pub lines: Vec<Line>,
}

/// The id of a project.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ProjectId(pub String);

/// Aggregate 16 of 20.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Project {
    pub id: ProjectId,
    pub version: u64,
    pub name: String,
    pub category: String,
    pub description: Option<String>,
    pub quantity: u32,
    pub amount: i64,
    pub rate: f64,
    pub active: bool,
    pub attachment: Vec<u8>,
    pub lines: Vec<Line>,
}

/// The id of a ticket.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct TicketId(pub i64);

/// Aggregate 17 of 20.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Ticket {
    pub id: TicketId,
    pub version: u64,
    pub name: String,
    pub category: String,
    pub description: Option<String>,
    pub quantity: u32,
    pub amount: i64,
    pub rate: f64,
    pub active: bool,
    pub attachment: Vec<u8>,
    pub lines: Vec<Line>,
}

/// The id of an asset.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct AssetId(pub String);

/// Aggregate 18 of 20.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Asset {
    pub id: AssetId,
    pub version: u64,
    pub name: String,
    pub category: String,
    pub description: Option<String>,
    pub quantity: u32,
    pub amount: i64,
    pub rate: f64,
    pub active: bool,
    pub attachment: Vec<u8>,
    pub lines: Vec<Line>,
}

/// The id of a contract.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ContractId(pub i64);

/// Aggregate 19 of 20.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Contract {
    pub id: ContractId,
    pub version: u64,
    pub name: String,
    pub category: String,
    pub description: Option<String>,
    pub quantity: u32,
    pub amount: i64,
    pub rate: f64,
    pub active: bool,
    pub attachment: Vec<u8>,
    pub lines: Vec<Line>,
}

/// The id of a vendor.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct VendorId(pub String);

/// Aggregate 20 of 20.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Vendor {
    pub id: VendorId,
    pub version: u64,
    pub name: String,
    pub category: String,
    pub description: Option<String>,
    pub quantity: u32,
    pub amount: i64,
    pub rate: f64,
    pub active: bool,
    pub attachment: Vec<u8>,
    pub lines: Vec<Line>,
}
