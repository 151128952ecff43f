//! The transactional outbox: a unit of work declared with
//! `#[unit_of_work(events = E, outbox)]` stores its events, serialized as
//! JSON, in the outbox table in the same transaction as its aggregate writes;
//! a [`Relay`] delivers them afterwards to a [`Publisher`], at least once,
//! in order per aggregate.
//!
//! Storing the events with the aggregates is what makes delivery reliable:
//! publishing after the commit loses events when the process dies in
//! between, publishing before announces changes that may be rolled back.

use std::collections::HashSet;
use std::fmt;
use std::future::Future;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::Error;
pub use crate::memory::InMemoryClaim;
use crate::value::{ValueError, ValueErrorKind};

/// One event as the outbox stores it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxRecord {
    /// A unique, time-ordered id (UUID version 7 text): what a consumer
    /// de-duplicates redeliveries by.
    pub event_id: String,
    /// The type name of the aggregate that recorded the event.
    pub aggregate_type: String,
    /// The aggregate's id, as text.
    pub aggregate_id: String,
    /// The event's type: the variant name of an externally tagged enum
    /// (serde's default), else the Rust type name.
    pub event_type: String,
    /// The event serialized as JSON.
    pub payload: String,
    /// When the unit of work committed, in microseconds since the epoch.
    pub created_at: i64,
}

/// A stored outbox record with its delivery state, as a relay sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxMessage {
    /// The store's sequence number: the order records were written in.
    pub seq: i64,
    /// The record.
    pub record: OutboxRecord,
    /// Failed delivery attempts so far.
    pub attempts: u32,
}

/// Where the event of an outbox record came from (the commit path of
/// generated code; not a public API).
#[doc(hidden)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventSource {
    /// The aggregate's type name.
    pub aggregate_type: &'static str,
    /// The aggregate's id, as text.
    pub aggregate_id: String,
}

/// Microseconds since the Unix epoch, now (the stores' clock for outbox
/// and marker timestamps; not a public API).
#[doc(hidden)]
pub fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// A new UUID version 7 (`uuid::Uuid::now_v7`): 48 bits of Unix
/// milliseconds, then a counter and random bits, so ids made by one process
/// sort in the order they were made and ids of different processes do not
/// collide.
pub(crate) fn new_event_id() -> String {
    uuid::Uuid::now_v7().hyphenated().to_string()
}

/// Builds the outbox records of a commit's events.
#[doc(hidden)]
pub fn outbox_records<E: serde::Serialize>(
    events: &[(EventSource, E)],
) -> Result<Vec<OutboxRecord>, Error> {
    let created_at = now_micros();
    events
        .iter()
        .map(|(source, event)| {
            let json = serde_json::to_value(event).map_err(|e| Error::Encode {
                aggregate: source.aggregate_type,
                field: "events",
                id: source.aggregate_id.clone(),
                reason: ValueError::with_kind(
                    ValueErrorKind::Json,
                    "the event cannot be serialized for the outbox",
                )
                .caused_by(e),
            })?;
            let event_type = match &json {
                serde_json::Value::Object(map) if map.len() == 1 => {
                    map.keys().next().cloned().unwrap_or_default()
                }
                serde_json::Value::String(unit_variant) => unit_variant.clone(),
                _ => short_type_name::<E>().to_owned(),
            };
            Ok(OutboxRecord {
                event_id: new_event_id(),
                aggregate_type: source.aggregate_type.to_owned(),
                aggregate_id: source.aggregate_id.clone(),
                event_type,
                payload: json.to_string(),
                created_at,
            })
        })
        .collect()
}

fn short_type_name<T>() -> &'static str {
    let name = std::any::type_name::<T>();
    name.rsplit("::").next().unwrap_or(name)
}

/// A store that keeps an outbox: the in-memory store and `uow_sqlx::SqlxStore`.
pub trait OutboxStore: Send + Sync {
    /// A batch of messages claimed by one relay.
    type Claim: OutboxClaim;

    /// Claims up to `limit` deliverable messages for relay `relay`: not yet
    /// delivered, due (`next attempt <= now`), not claimed by another relay,
    /// and, per aggregate, only a run that starts at the aggregate's oldest
    /// undelivered message — so the messages of one aggregate are delivered
    /// in order even across relays and retries. Ordered by sequence.
    fn claim(
        &self,
        relay: &str,
        limit: usize,
    ) -> impl Future<Output = Result<Self::Claim, Error>> + Send;

    /// The messages set aside as dead (failed as many times as the relay
    /// allows), oldest first, with their last error. Dead messages are not
    /// delivered, and do not hold back the later messages of their aggregate.
    fn dead_messages(&self) -> impl Future<Output = Result<Vec<DeadMessage>, Error>> + Send;

    /// Puts dead message `seq` back in the queue, with its attempts reset:
    /// the next claim delivers it. `false` if no dead message has that
    /// sequence number.
    fn requeue(&self, seq: i64) -> impl Future<Output = Result<bool, Error>> + Send;
}

/// A message set aside after too many failed deliveries.
#[derive(Clone, Debug, PartialEq)]
pub struct DeadMessage {
    /// The message, with the attempts it failed.
    pub message: OutboxMessage,
    /// The error of its last attempt.
    pub last_error: String,
    /// When it was set aside, in microseconds since the epoch.
    pub dead_at: i64,
}

/// Messages claimed by one relay, and what became of them. Nothing is marked
/// until [`finish`](OutboxClaim::finish); a claim dropped unfinished (the
/// relay crashed) leaves its messages to be delivered again.
pub trait OutboxClaim: Send {
    /// The claimed messages, by sequence.
    fn messages(&self) -> &[OutboxMessage];
    /// Marks message `seq` delivered.
    fn delivered(&mut self, seq: i64);
    /// Records a failed attempt of message `seq`, due again at `retry_at`
    /// (microseconds since the epoch).
    fn failed(&mut self, seq: i64, error: String, retry_at: i64);
    /// Records a last failed attempt of message `seq`, and sets it aside as
    /// dead (see [`OutboxStore::dead_messages`]).
    fn dead(&mut self, seq: i64, error: String);
    /// Keeps the claim alive while its messages are being published (on
    /// SQLite, renews the relay lease), and completes only if the claim is
    /// lost (another relay took the lease over): the relay then stops
    /// publishing, so no message is published by two relays at once. Claims
    /// held by row locks never expire: the default never completes.
    fn keep_alive(&mut self) -> impl Future<Output = ()> + Send {
        std::future::pending()
    }
    /// Stores the marks and releases the claim.
    fn finish(self) -> impl Future<Output = Result<(), Error>> + Send;
}

/// Where a relay delivers messages: a message broker, a webhook, a channel.
pub trait Publisher: Send + Sync {
    /// Delivers one message. An error leaves it to be retried with backoff.
    fn publish(
        &self,
        message: &OutboxMessage,
    ) -> impl Future<Output = Result<(), Box<dyn std::error::Error + Send + Sync>>> + Send;
}

/// How long a relay waits before retrying a message that failed: `base`
/// doubled per failed attempt, at most `max`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// The wait after the first failure.
    pub base: Duration,
    /// The longest wait.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_millis(500),
            max: Duration::from_secs(300),
        }
    }
}

impl Backoff {
    /// The wait after `attempts` failed attempts.
    pub fn after(&self, attempts: u32) -> Duration {
        let factor = 1u32
            .checked_shl(attempts.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.max)
    }
}

/// What one [`Relay::run_once`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RelayReport {
    /// Messages delivered.
    pub delivered: usize,
    /// Messages whose delivery failed (to be retried).
    pub failed: usize,
    /// Messages held back because an earlier message of the same aggregate
    /// failed in the same batch.
    pub held_back: usize,
    /// Messages set aside as dead in this batch.
    pub dead: usize,
    /// Whether the batch stopped because its claim was lost (another relay
    /// took the lease over).
    pub lost_claim: bool,
}

impl fmt::Display for RelayReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} delivered, {} failed, {} held back, {} set aside as dead",
            self.delivered, self.failed, self.held_back, self.dead
        )?;
        if self.lost_claim {
            f.write_str(", claim lost")?;
        }
        Ok(())
    }
}

/// Delivers outbox messages to a publisher: at least once, in order per
/// aggregate, retrying failures with backoff. Several relays may run at once
/// on one store; no message is delivered by two of them concurrently.
///
/// A publisher that panics fails that message (the panic is caught, the
/// relay goes on). A message that fails [`max_attempts`](Relay::max_attempts)
/// times is set aside as dead, with its last error
/// ([`OutboxStore::dead_messages`], [`OutboxStore::requeue`]), and the
/// later messages of its aggregate are delivered after it, in order.
///
/// `run_once` handles one batch; `uow_sqlx::run_relay` (or any loop of your
/// own) calls it repeatedly, pausing when there is nothing to do.
#[derive(Debug)]
pub struct Relay<O, P> {
    outbox: O,
    publisher: P,
    name: String,
    batch: usize,
    backoff: Backoff,
    max_attempts: u32,
}

impl<O: OutboxStore, P: Publisher> Relay<O, P> {
    /// A relay named `name` (unique among the relays running at once).
    pub fn new(name: impl Into<String>, outbox: O, publisher: P) -> Self {
        Relay {
            outbox,
            publisher,
            name: name.into(),
            batch: 100,
            backoff: Backoff::default(),
            max_attempts: 10,
        }
    }

    /// After this many failed attempts (default 10) a message is set aside
    /// as dead instead of being retried, so a message that can never be
    /// delivered (a poison message) does not stop its aggregate's others.
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// At most `size` messages per batch (default 100).
    pub fn batch_size(mut self, size: usize) -> Self {
        self.batch = size.max(1);
        self
    }

    /// The retry schedule of failed messages.
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// The publisher.
    pub fn publisher(&self) -> &P {
        &self.publisher
    }

    /// Claims a batch, publishes its messages in order, and stores what
    /// became of them. After a failure, later messages of the same aggregate
    /// in the batch are held back, to keep each aggregate's events in order
    /// (unless the failed message was set aside as dead).
    pub async fn run_once(&self) -> Result<RelayReport, Error> {
        let mut claim = self.outbox.claim(&self.name, self.batch).await?;
        let mut report = RelayReport::default();
        let mut blocked: HashSet<(String, String)> = HashSet::new();
        let messages: Vec<OutboxMessage> = claim.messages().to_vec();
        for message in &messages {
            let aggregate = (
                message.record.aggregate_type.clone(),
                message.record.aggregate_id.clone(),
            );
            if blocked.contains(&aggregate) {
                report.held_back += 1;
                continue;
            }
            let published = race(
                catch_panic(self.publisher.publish(message)),
                claim.keep_alive(),
            )
            .await;
            let Some(published) = published else {
                tracing::warn!(
                    relay = %self.name,
                    event_id = %message.record.event_id,
                    "outbox claim lost while publishing; stopping this batch"
                );
                report.lost_claim = true;
                break;
            };
            match published {
                Ok(()) => {
                    claim.delivered(message.seq);
                    report.delivered += 1;
                }
                Err(error) => {
                    let attempts = message.attempts + 1;
                    if attempts >= self.max_attempts {
                        tracing::error!(
                            relay = %self.name,
                            event_id = %message.record.event_id,
                            attempts,
                            error = %error,
                            "outbox delivery failed too often; message set aside as dead"
                        );
                        claim.dead(message.seq, error.to_string());
                        report.dead += 1;
                        continue;
                    }
                    let wait = self.backoff.after(attempts);
                    let retry_at = now_micros()
                        .saturating_add(i64::try_from(wait.as_micros()).unwrap_or(i64::MAX));
                    tracing::warn!(
                        relay = %self.name,
                        event_id = %message.record.event_id,
                        attempts,
                        error = %error,
                        "outbox delivery failed; will retry"
                    );
                    claim.failed(message.seq, error.to_string(), retry_at);
                    blocked.insert(aggregate);
                    report.failed += 1;
                }
            }
        }
        claim.finish().await?;
        Ok(report)
    }
}

type PublishError = Box<dyn std::error::Error + Send + Sync>;

/// Runs a publication, turning a panic into its error.
async fn catch_panic(
    publish: impl Future<Output = Result<(), PublishError>>,
) -> Result<(), PublishError> {
    let mut publish = std::pin::pin!(publish);
    std::future::poll_fn(|cx| {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| publish.as_mut().poll(cx))) {
            Ok(poll) => poll,
            Err(panic) => {
                let text = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic".to_owned());
                std::task::Poll::Ready(Err(format!("the publisher panicked: {text}").into()))
            }
        }
    })
    .await
}

/// `work`'s output, or `None` if `lost` completes first.
async fn race<T>(work: impl Future<Output = T>, lost: impl Future<Output = ()>) -> Option<T> {
    let mut work = std::pin::pin!(work);
    let mut lost = std::pin::pin!(lost);
    std::future::poll_fn(|cx| {
        if let std::task::Poll::Ready(output) = work.as_mut().poll(cx) {
            return std::task::Poll::Ready(Some(output));
        }
        if lost.as_mut().poll(cx).is_ready() {
            return std::task::Poll::Ready(None);
        }
        std::task::Poll::Pending
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_are_uuid_v7_and_sorted_in_creation_order() {
        let ids: Vec<String> = (0..1000).map(|_| new_event_id()).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
        assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 1000);
        assert_eq!(&ids[0][14..15], "7", "version nibble");
        assert!(uuid::Uuid::parse_str(&ids[0]).is_ok());
    }

    #[test]
    fn backoff_doubles_up_to_its_maximum() {
        let backoff = Backoff {
            base: Duration::from_secs(1),
            max: Duration::from_secs(10),
        };
        let waits: Vec<u64> = (1..=6).map(|a| backoff.after(a).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 10, 10]);
    }

    #[test]
    fn records_take_the_variant_name_as_event_type() {
        #[derive(serde::Serialize)]
        enum Event {
            Allocated { qty: u32 },
            OutOfStock,
        }
        let source = EventSource {
            aggregate_type: "Product",
            aggregate_id: "LAMP".into(),
        };
        let records = outbox_records(&[
            (source.clone(), Event::Allocated { qty: 3 }),
            (source, Event::OutOfStock),
        ])
        .unwrap();
        assert_eq!(records[0].event_type, "Allocated");
        assert_eq!(records[0].payload, r#"{"Allocated":{"qty":3}}"#);
        assert_eq!(records[1].event_type, "OutOfStock");
        assert_eq!(records[1].aggregate_id, "LAMP");
    }
}
