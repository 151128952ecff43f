//! The reporting service: a second, small service beside the allocation
//! example. It keeps a read model of which batch each order line is
//! allocated to, built from the allocation service's events as they arrive
//! from NATS JetStream, each applied once through the inbox; and it sends
//! `ChangeBatchQuantity` commands back to the allocation service through the
//! broker.
//!
//! Its parts, small enough for one crate: the read model
//! ([`AllocationView`], unit of work [`Reporting`]), the handler that
//! applies an event ([`apply_event`], generic over the store so it is tested
//! on the in-memory store), and the broker adapter ([`consume`],
//! [`change_batch_quantity`]). It depends on no crate of the allocation
//! service: the messages are the contract (their JSON, [`AllocationEvent`]
//! and the subjects in [`Subjects`]).

use serde::{Deserialize, Serialize};
use uow_broker::nats::{NatsConsumer, NatsPublisher};
use uow_broker::{BrokerError, Delivery};
use uow_core::inbox::{Inbox, InboxStore};
use uow_core::outbox::{OutboxMessage, OutboxRecord, Publisher};
use uow_core::{Aggregate, Store, unit_of_work};

/// Which batch an order line is allocated to, as this service knows it.
#[derive(Aggregate, Clone, Debug, PartialEq)]
#[aggregate(table = "reporting_allocations")]
pub struct AllocationView {
    /// `<orderid>/<sku>`.
    #[aggregate(id)]
    pub line: String,
    #[aggregate(version)]
    pub version: u64,
    #[aggregate(find_by)]
    pub orderid: String,
    pub sku: String,
    pub qty: u32,
    /// The batch, or `None` once the line was taken off it.
    pub batchref: Option<String>,
}

/// The one unit of work of the service.
#[unit_of_work]
pub struct Reporting {
    /// The read model.
    pub allocations: AllocationView,
}

/// The aggregates the service stores, for schema tools.
pub const AGGREGATES: &[&uow_core::backend::AggregateMeta] = &[AllocationView::META];

/// The allocation service's events as they travel (its JSON contract).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum AllocationEvent {
    Allocated {
        orderid: String,
        sku: String,
        qty: u32,
        batchref: String,
    },
    Deallocated {
        orderid: String,
        sku: String,
        qty: u32,
    },
    AllocationCancelled {
        orderid: String,
        sku: String,
        batchref: String,
    },
    OutOfStock {
        sku: String,
    },
}

/// The subjects and streams of the messages between the two services.
#[derive(Clone, Debug)]
pub struct Subjects {
    /// The stream of the allocation service's events.
    pub events_stream: String,
    /// The subject prefix of the commands to the allocation service.
    pub commands_prefix: String,
}

impl Default for Subjects {
    fn default() -> Self {
        Subjects {
            events_stream: "ALLOCATION".into(),
            commands_prefix: "allocation-commands".into(),
        }
    }
}

/// Why an event could not be applied (it is delivered again).
#[derive(Debug, thiserror::Error)]
pub enum ReportingError {
    /// The payload is not an allocation event.
    #[error("not an allocation event: {0}")]
    Malformed(#[from] serde_json::Error),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] uow_core::Error),
}

/// Applies one allocation event to the read model, in one unit of work.
pub async fn apply_event<S: Store>(store: &S, payload: &str) -> Result<(), ReportingError> {
    let event: AllocationEvent = serde_json::from_str(payload)?;
    let mut uow = Reporting::begin(store).await?;
    match event {
        AllocationEvent::Allocated {
            orderid,
            sku,
            qty,
            batchref,
        } => {
            let line = format!("{orderid}/{sku}");
            match uow.allocations.get(&line).await? {
                Some(view) => {
                    view.qty = qty;
                    view.batchref = Some(batchref);
                }
                None => uow.allocations.add(AllocationView {
                    line,
                    version: 0,
                    orderid,
                    sku,
                    qty,
                    batchref: Some(batchref),
                })?,
            }
        }
        AllocationEvent::Deallocated { orderid, sku, .. }
        | AllocationEvent::AllocationCancelled { orderid, sku, .. } => {
            if let Some(view) = uow.allocations.get(&format!("{orderid}/{sku}")).await? {
                view.batchref = None;
            }
        }
        AllocationEvent::OutOfStock { .. } => return Ok(()),
    }
    uow.commit().await?;
    Ok(())
}

/// The read model of order `orderid`: its lines and their batches.
pub async fn allocations<S: Store>(
    store: &S,
    orderid: &str,
) -> Result<Vec<AllocationView>, uow_core::Error> {
    let mut uow = Reporting::begin(store).await?;
    Ok(uow
        .allocations
        .find_by_orderid(orderid)
        .await?
        .into_iter()
        .map(|view| view.clone())
        .collect())
}

/// Consumes the allocation service's events from JetStream (durable consumer
/// `reporting`) into the read model, each once, until an error.
pub async fn consume<S>(
    client: async_nats::Client,
    store: S,
    subjects: &Subjects,
) -> Result<(), BrokerError>
where
    S: InboxStore + Clone + 'static,
{
    let inbox = Inbox::new("reporting", store);
    NatsConsumer::new(client, subjects.events_stream.clone(), "reporting")
        .run(&inbox, |store, delivery: Delivery| async move {
            apply_event(&store, &delivery.payload).await
        })
        .await
}

/// Sends `ChangeBatchQuantity` for batch `reference` to the allocation
/// service, confirmed by the broker. It is sent directly, not through an
/// outbox: this service has no write that must happen with it.
pub async fn change_batch_quantity(
    client: async_nats::Client,
    subjects: &Subjects,
    reference: &str,
    qty: u32,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let payload = serde_json::json!({"ChangeBatchQuantity": {"reference": reference, "qty": qty}});
    let message = OutboxMessage {
        seq: 0,
        record: OutboxRecord {
            event_id: uuid::Uuid::now_v7().hyphenated().to_string(),
            aggregate_type: "Batch".into(),
            aggregate_id: reference.to_owned(),
            event_type: "ChangeBatchQuantity".into(),
            payload: payload.to_string(),
            created_at: uow_core::backend::now_micros(),
        },
        attempts: 0,
    };
    NatsPublisher::new(client, &subjects.commands_prefix)
        .publish(&message)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_allocation_then_its_deallocation_leave_the_line_without_a_batch() {
        let store = uow_core::InMemoryStore::new();
        apply_event(
            &store,
            r#"{"Allocated":{"orderid":"o1","sku":"LAMP","qty":10,"batchref":"b1"}}"#,
        )
        .await
        .expect("allocated");
        let views = allocations(&store, "o1").await.expect("read");
        assert_eq!(views[0].batchref.as_deref(), Some("b1"));
        apply_event(
            &store,
            r#"{"Deallocated":{"orderid":"o1","sku":"LAMP","qty":10}}"#,
        )
        .await
        .expect("deallocated");
        let views = allocations(&store, "o1").await.expect("read");
        assert_eq!(views[0].batchref, None);
    }
}
