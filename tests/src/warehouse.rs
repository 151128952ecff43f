//! A test domain of child entities: products holding batches (a child
//! table) that hold allocations (a grandchild table), an optional label
//! (an `Option` child), and orders whose lines are keyed by a line number
//! that repeats from order to order (a composite key: order + line).

use uow_core::{Aggregate, Entity, unit_of_work};
use uuid::Uuid;

/// A product: the root of product → batch → allocation.
#[derive(Aggregate, Clone, Debug, PartialEq)]
#[aggregate(table = "wh_products")]
pub struct Product {
    #[aggregate(id)]
    pub sku: String,
    #[aggregate(version)]
    pub version: u64,
    pub description: String,
    #[aggregate(children)]
    pub batches: Vec<Batch>,
    #[aggregate(children)]
    pub label: Option<Label>,
}

/// A batch of stock: a child of a product, with a unique tracking code.
#[derive(Entity, Clone, Debug, PartialEq)]
#[entity(table = "wh_batches")]
pub struct Batch {
    #[entity(id)]
    pub reference: String,
    #[entity(unique)]
    pub tracking: String,
    pub quantity: i64,
    pub eta: Option<i64>,
    #[entity(children)]
    pub allocations: Vec<Allocation>,
}

/// An allocation of an order line to a batch: a grandchild of the product,
/// identified by a UUID the application assigns.
#[derive(Entity, Clone, Debug, PartialEq)]
#[entity(table = "wh_allocations")]
pub struct Allocation {
    #[entity(id)]
    pub id: Uuid,
    #[entity(find_by)]
    pub order: String,
    pub quantity: i64,
}

/// A product's shelf label: at most one per product.
#[derive(Entity, Clone, Debug, PartialEq)]
#[entity(table = "wh_labels")]
pub struct Label {
    #[entity(id)]
    pub code: String,
    pub text: String,
}

/// An order: lines numbered 1, 2, … in each order.
#[derive(Aggregate, Clone, Debug, PartialEq)]
#[aggregate(table = "wh_orders")]
pub struct Order {
    #[aggregate(id)]
    pub id: String,
    #[aggregate(version)]
    pub version: u64,
    pub customer: String,
    #[aggregate(children)]
    pub lines: Vec<OrderLine>,
}

/// A line of an order, keyed by its number within the order.
#[derive(Entity, Clone, Debug, PartialEq)]
#[entity(table = "wh_order_lines")]
pub struct OrderLine {
    #[entity(id)]
    pub number: i32,
    pub sku: String,
    pub quantity: i64,
}

/// The unit of work of the warehouse.
#[unit_of_work]
pub struct Warehouse {
    pub products: Product,
    pub orders: Order,
}

/// The warehouse's tables (the roots; their child tables come with them).
pub const TABLES: &[&uow_core::backend::AggregateMeta] =
    <Warehouse<uow_core::InMemoryStore> as uow_core::UnitOfWork>::AGGREGATES;

impl Product {
    /// A product without batches.
    pub fn new(sku: &str) -> Self {
        Product {
            sku: sku.to_owned(),
            version: 0,
            description: format!("the {sku}"),
            batches: Vec::new(),
            label: None,
        }
    }

    /// The batch with this reference, to read.
    pub fn batch_ref(&self, reference: &str) -> &Batch {
        self.batches
            .iter()
            .find(|b| b.reference == reference)
            .expect("the product holds the batch")
    }

    /// The batch with this reference.
    pub fn batch(&mut self, reference: &str) -> &mut Batch {
        self.batches
            .iter_mut()
            .find(|b| b.reference == reference)
            .expect("the product holds the batch")
    }
}

impl Batch {
    /// A batch without allocations.
    pub fn new(reference: &str, quantity: i64) -> Self {
        Batch {
            reference: reference.to_owned(),
            tracking: format!("T-{reference}"),
            quantity,
            eta: None,
            allocations: Vec::new(),
        }
    }

    /// The batch with allocations to these orders, 1 each.
    pub fn allocated(mut self, orders: &[&str]) -> Self {
        self.allocations = orders.iter().map(|o| Allocation::new(o, 1)).collect();
        self
    }
}

impl Allocation {
    /// An allocation with a fresh UUID (distinct within the test run).
    pub fn new(order: &str, quantity: i64) -> Self {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Allocation {
            id: Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 | u128::from(n)),
            order: order.to_owned(),
            quantity,
        }
    }
}

impl Order {
    /// An order with lines numbered 1, 2, … for these skus, 1 each.
    pub fn new(id: &str, skus: &[&str]) -> Self {
        Order {
            id: id.to_owned(),
            version: 0,
            customer: "ada".to_owned(),
            lines: skus
                .iter()
                .zip(1..)
                .map(|(sku, number)| OrderLine {
                    number,
                    sku: (*sku).to_owned(),
                    quantity: 1,
                })
                .collect(),
        }
    }
}
