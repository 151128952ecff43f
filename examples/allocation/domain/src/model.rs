//! Products, batches and order lines.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uow_core::{Aggregate, ColumnValue, Entity};

use crate::events::Event;

/// A stock-keeping unit: identifies a product.
#[derive(
    ColumnValue, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Sku(pub String);

/// A batch's reference.
#[derive(
    ColumnValue, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct BatchRef(pub String);

/// A customer order's id.
#[derive(
    ColumnValue, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct OrderId(pub String);

macro_rules! text_id {
    ($($name:ident),*) => {$(
        impl $name {
            /// From text.
            pub fn new(id: impl Into<String>) -> Self {
                $name(id.into())
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    )*};
}
text_id!(Sku, BatchRef, OrderId);

/// A line of a customer order, equal when its values are. Allocated to a
/// batch, it is a child entity of the product (table `allocations`),
/// identified within the product by its order: a product holds at most one
/// line of an order.
#[derive(Entity, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[entity(table = "allocations")]
pub struct OrderLine {
    #[entity(id, find_by)]
    pub orderid: OrderId,
    pub sku: Sku,
    pub qty: u32,
}

impl OrderLine {
    /// A line of `qty` units of `sku` for order `orderid`.
    pub fn new(orderid: &str, sku: &str, qty: u32) -> Self {
        OrderLine {
            orderid: OrderId::new(orderid),
            sku: Sku::new(sku),
            qty,
        }
    }
}

/// Stock of one SKU: in the warehouse (`eta` is `None`) or on a shipment
/// arriving on `eta`. An entity: two batches are the same batch when their
/// references are equal. A child of its product (table `batches`), its
/// allocated lines children of it; a reference is unique across products,
/// and finds its product (`ProductRepository`'s `get_by_batch_reference`,
/// from [`BatchFinders`]).
#[derive(Entity, Clone, Debug, Serialize, Deserialize)]
#[entity(eq_by_id, table = "batches")]
pub struct Batch {
    #[entity(id, unique)]
    pub reference: BatchRef,
    pub sku: Sku,
    pub eta: Option<NaiveDate>,
    pub purchased_quantity: u32,
    #[entity(children)]
    allocations: Vec<OrderLine>,
}

impl Batch {
    /// A batch with nothing allocated yet.
    pub fn new(reference: &str, sku: &str, qty: u32, eta: Option<NaiveDate>) -> Self {
        Batch {
            reference: BatchRef::new(reference),
            sku: Sku::new(sku),
            eta,
            purchased_quantity: qty,
            allocations: Vec::new(),
        }
    }

    /// Units allocated to order lines.
    pub fn allocated_quantity(&self) -> u32 {
        self.allocations.iter().map(|l| l.qty).sum()
    }

    /// Units still free (negative after the purchased quantity dropped below
    /// what was allocated, until lines are deallocated).
    pub fn available_quantity(&self) -> i64 {
        i64::from(self.purchased_quantity) - i64::from(self.allocated_quantity())
    }

    /// Whether `line` fits: same SKU and enough left.
    pub fn can_allocate(&self, line: &OrderLine) -> bool {
        self.sku == line.sku && self.available_quantity() >= i64::from(line.qty)
    }

    /// Whether `line`'s order is allocated to this batch.
    pub fn holds(&self, line: &OrderLine) -> bool {
        self.allocations.iter().any(|l| l.orderid == line.orderid)
    }

    /// The lines allocated to this batch.
    pub fn allocations(&self) -> &[OrderLine] {
        &self.allocations
    }

    fn allocate(&mut self, line: OrderLine) {
        if !self.holds(&line) {
            self.allocations.push(line);
        }
    }

    fn deallocate(&mut self, orderid: &OrderId) -> Vec<OrderLine> {
        let (gone, kept) = self
            .allocations
            .drain(..)
            .partition(|l| &l.orderid == orderid);
        self.allocations = kept;
        gone
    }

    /// Warehouse stock first, then shipments by arrival.
    fn preference(&self) -> (bool, Option<NaiveDate>) {
        (self.eta.is_some(), self.eta)
    }
}

/// No batch of the SKU has enough left for the line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutOfStock {
    pub sku: Sku,
}

impl fmt::Display for OutOfStock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "out of stock for sku {}", self.sku)
    }
}

impl std::error::Error for OutOfStock {}

/// The aggregate: all batches of one SKU, the consistency boundary for
/// allocation. Its version guards against two allocations overbooking the
/// same stock.
#[derive(Aggregate, Clone, Debug)]
#[aggregate(table = "products")]
pub struct Product {
    #[aggregate(id)]
    pub sku: Sku,
    #[aggregate(version)]
    pub version: u64,
    #[aggregate(children)]
    pub batches: Vec<Batch>,
    #[aggregate(events)]
    pub events: Vec<Event>,
}

impl Product {
    /// A product with no stock.
    pub fn new(sku: &str) -> Self {
        Product {
            sku: Sku::new(sku),
            version: 0,
            batches: Vec::new(),
            events: Vec::new(),
        }
    }

    /// Adds a batch. References are identity: adding a batch whose reference
    /// the product already holds changes nothing.
    pub fn add_batch(&mut self, batch: Batch) {
        if !self.batches.iter().any(|b| b == &batch) {
            self.batches.push(batch);
        }
    }

    /// The batch with this reference.
    pub fn batch(&self, reference: &BatchRef) -> Option<&Batch> {
        self.batches.iter().find(|b| &b.reference == reference)
    }

    /// Allocates `line` to the preferred batch that can take it and returns
    /// its reference. Allocating a line whose order is already allocated
    /// returns the batch it is on. When no batch can take it, records
    /// [`Event::OutOfStock`].
    pub fn allocate(&mut self, line: OrderLine) -> Result<BatchRef, OutOfStock> {
        if let Some(batch) = self.batches.iter().find(|b| b.holds(&line)) {
            return Ok(batch.reference.clone());
        }
        let chosen = self
            .batches
            .iter_mut()
            .filter(|b| b.can_allocate(&line))
            .min_by_key(|b| b.preference());
        match chosen {
            Some(batch) => {
                batch.allocate(line.clone());
                let batchref = batch.reference.clone();
                self.events.push(Event::Allocated {
                    orderid: line.orderid,
                    sku: line.sku,
                    qty: line.qty,
                    batchref: batchref.clone(),
                });
                Ok(batchref)
            }
            None => {
                self.events.push(Event::OutOfStock {
                    sku: self.sku.clone(),
                });
                Err(OutOfStock {
                    sku: self.sku.clone(),
                })
            }
        }
    }

    /// Takes the lines of order `orderid` off every batch, recording
    /// [`Event::AllocationCancelled`] for each; returns them.
    pub fn deallocate(&mut self, orderid: &OrderId) -> Vec<OrderLine> {
        let mut lines = Vec::new();
        for batch in &mut self.batches {
            for line in batch.deallocate(orderid) {
                self.events.push(Event::AllocationCancelled {
                    orderid: line.orderid.clone(),
                    sku: line.sku.clone(),
                    batchref: batch.reference.clone(),
                });
                lines.push(line);
            }
        }
        lines
    }

    /// Sets a batch's purchased quantity. Lines that no longer fit are taken
    /// off it, most recent first, each recorded as [`Event::Deallocated`] so
    /// that they can be allocated elsewhere. Returns `false` when the product
    /// has no batch with this reference.
    pub fn change_batch_quantity(&mut self, reference: &BatchRef, qty: u32) -> bool {
        let Some(batch) = self.batches.iter_mut().find(|b| &b.reference == reference) else {
            return false;
        };
        batch.purchased_quantity = qty;
        while batch.available_quantity() < 0 {
            let Some(line) = batch.allocations.pop() else {
                break;
            };
            self.events.push(Event::Deallocated {
                orderid: line.orderid,
                sku: line.sku,
                qty: line.qty,
            });
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(2026, 11, 21)
    }
    fn tomorrow() -> Option<NaiveDate> {
        today().and_then(|d| d.succ_opt())
    }
    fn later() -> Option<NaiveDate> {
        tomorrow().and_then(|d| d.checked_add_days(chrono::Days::new(10)))
    }

    fn product_with(batches: Vec<Batch>) -> Product {
        let mut product = Product::new("RETRO-CLOCK");
        for batch in batches {
            product.add_batch(batch);
        }
        product
    }

    fn available(product: &Product, reference: &str) -> i64 {
        product
            .batch(&BatchRef::new(reference))
            .expect("batch")
            .available_quantity()
    }

    #[test]
    fn allocating_to_a_batch_reduces_its_available_quantity() {
        let mut product = product_with(vec![Batch::new("batch-001", "RETRO-CLOCK", 20, today())]);
        product
            .allocate(OrderLine::new("order-1", "RETRO-CLOCK", 2))
            .expect("in stock");
        assert_eq!(available(&product, "batch-001"), 18);
    }

    #[test]
    fn prefers_warehouse_stock_to_shipments() {
        let mut product = product_with(vec![
            Batch::new("shipment-batch", "RETRO-CLOCK", 100, tomorrow()),
            Batch::new("in-stock-batch", "RETRO-CLOCK", 100, None),
        ]);
        let chosen = product
            .allocate(OrderLine::new("oref", "RETRO-CLOCK", 10))
            .expect("in stock");
        assert_eq!(chosen, BatchRef::new("in-stock-batch"));
        assert_eq!(available(&product, "in-stock-batch"), 90);
        assert_eq!(available(&product, "shipment-batch"), 100);
    }

    #[test]
    fn prefers_earlier_shipments() {
        let mut product = product_with(vec![
            Batch::new("slow-batch", "RETRO-CLOCK", 100, later()),
            Batch::new("normal-batch", "RETRO-CLOCK", 100, tomorrow()),
            Batch::new("speedy-batch", "RETRO-CLOCK", 100, today()),
        ]);
        let chosen = product
            .allocate(OrderLine::new("order1", "RETRO-CLOCK", 10))
            .expect("in stock");
        assert_eq!(chosen, BatchRef::new("speedy-batch"));
        assert_eq!(available(&product, "normal-batch"), 100);
        assert_eq!(available(&product, "slow-batch"), 100);
    }

    #[test]
    fn cannot_allocate_more_than_is_available() {
        let mut product = product_with(vec![Batch::new("batch1", "RETRO-CLOCK", 1, None)]);
        let err = product
            .allocate(OrderLine::new("order1", "RETRO-CLOCK", 2))
            .expect_err("too many");
        assert_eq!(err.sku, Sku::new("RETRO-CLOCK"));
        assert_eq!(available(&product, "batch1"), 1);
    }

    #[test]
    fn allocation_is_idempotent() {
        let mut product = product_with(vec![Batch::new("batch1", "RETRO-CLOCK", 20, None)]);
        let line = OrderLine::new("order1", "RETRO-CLOCK", 2);
        let first = product.allocate(line.clone()).expect("in stock");
        let second = product.allocate(line).expect("already allocated");
        assert_eq!(first, second);
        assert_eq!(available(&product, "batch1"), 18);
    }

    #[test]
    fn allocating_records_an_allocated_event() {
        let mut product = product_with(vec![Batch::new("batch1", "RETRO-CLOCK", 20, None)]);
        product
            .allocate(OrderLine::new("order1", "RETRO-CLOCK", 3))
            .expect("in stock");
        assert_eq!(
            product.events,
            [Event::Allocated {
                orderid: OrderId::new("order1"),
                sku: Sku::new("RETRO-CLOCK"),
                qty: 3,
                batchref: BatchRef::new("batch1"),
            }]
        );
    }

    #[test]
    fn running_out_of_stock_is_recorded_as_an_event() {
        let mut product = product_with(vec![Batch::new("batch1", "RETRO-CLOCK", 10, today())]);
        product
            .allocate(OrderLine::new("order1", "RETRO-CLOCK", 10))
            .expect("exactly enough");
        product.events.clear();
        let outcome = product.allocate(OrderLine::new("order2", "RETRO-CLOCK", 1));
        assert!(outcome.is_err());
        assert_eq!(
            product.events,
            [Event::OutOfStock {
                sku: Sku::new("RETRO-CLOCK")
            }]
        );
    }

    #[test]
    fn deallocating_frees_the_quantity() {
        let mut product = product_with(vec![Batch::new("batch1", "RETRO-CLOCK", 20, None)]);
        product
            .allocate(OrderLine::new("order1", "RETRO-CLOCK", 5))
            .expect("in stock");
        product.events.clear();
        let lines = product.deallocate(&OrderId::new("order1"));
        assert_eq!(lines.len(), 1);
        assert_eq!(
            product.events,
            [Event::AllocationCancelled {
                orderid: OrderId::new("order1"),
                sku: Sku::new("RETRO-CLOCK"),
                batchref: BatchRef::new("batch1"),
            }]
        );
        assert_eq!(available(&product, "batch1"), 20);
        assert!(product.deallocate(&OrderId::new("unknown")).is_empty());
    }

    #[test]
    fn reducing_a_batch_below_its_allocations_deallocates_lines_as_events() {
        let mut product = product_with(vec![Batch::new("batch1", "INDIFFERENT-TABLE", 50, None)]);
        for order in ["order1", "order2"] {
            product
                .allocate(OrderLine::new(order, "INDIFFERENT-TABLE", 20))
                .expect("in stock");
        }
        product.events.clear();
        assert!(product.change_batch_quantity(&BatchRef::new("batch1"), 25));
        assert_eq!(available(&product, "batch1"), 5);
        assert_eq!(
            product.events,
            [Event::Deallocated {
                orderid: OrderId::new("order2"),
                sku: Sku::new("INDIFFERENT-TABLE"),
                qty: 20,
            }]
        );
    }

    #[test]
    fn batches_are_equal_by_reference() {
        let a = Batch::new("batch1", "LAMP", 10, None);
        let b = Batch::new("batch1", "LAMP", 99, today());
        assert_eq!(a, b);
        assert_ne!(a, Batch::new("batch2", "LAMP", 10, None));
    }
}
