//! What the outside world asks of the service.

use allocation_domain::{BatchRef, OutOfStock};
use chrono::NaiveDate;
use uow_core::bus::Command;

use crate::errors::ServiceError;

/// Receive a new batch of stock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateBatch {
    pub reference: String,
    pub sku: String,
    pub qty: u32,
    /// `None`: in the warehouse already.
    pub eta: Option<NaiveDate>,
}

impl Command for CreateBatch {
    type Output = ();
    type Error = ServiceError;
}

/// Allocate an order line to the preferred batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allocate {
    pub orderid: String,
    pub sku: String,
    pub qty: u32,
}

impl Command for Allocate {
    /// The batch, or out of stock: running out is a business outcome (it is
    /// committed and announced by an event), not a failure of the command.
    type Output = Result<BatchRef, OutOfStock>;
    type Error = ServiceError;
}

/// Take an order's lines off a product's batches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deallocate {
    pub orderid: String,
    pub sku: String,
}

impl Command for Deallocate {
    /// How many lines were deallocated.
    type Output = usize;
    type Error = ServiceError;
}

/// Change the purchased quantity of a batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeBatchQuantity {
    pub reference: String,
    pub qty: u32,
    /// The version of the batch's product the caller saw (an HTTP
    /// `If-Match`): the change applies only if nobody changed the product
    /// since. `None` applies it to whatever is stored now.
    pub expected_version: Option<u64>,
}

impl Command for ChangeBatchQuantity {
    type Output = ();
    type Error = ServiceError;
}
