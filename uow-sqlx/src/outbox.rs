//! The outbox in a database: its table, claims of deliverable messages, and
//! a relay loop.
//!
//! Messages are claimed inside a transaction and marked in the same one, so
//! a relay that dies mid-batch marks nothing and its messages are claimed
//! again (delivery is at least once; consumers de-duplicate by event id).
//!
//! - **PostgreSQL, MySQL 8, MariaDB 10.6+**: `SELECT ... FOR UPDATE SKIP
//!   LOCKED`, so relays running at once take disjoint batches.
//! - **SQLite** ([`Driver::RELAY_LEASE`]): a lease row: one relay at a time
//!   holds it (renewed on every claim, taken over when it expires), and only
//!   the holder claims.
//!
//! Written once, generic over [`Driver`]: the claim SQL is the database's
//! [`SqlDialect`], the lease its driver's.

use std::future::Future;
use std::sync::atomic::Ordering;
use std::time::Duration;

use sqlx::Connection;
use sqlx::pool::PoolConnection;
use uow_core::{
    BackendError, Error,
    backend::{ColumnKind, Value, now_micros},
    outbox::{
        DeadMessage, OutboxClaim, OutboxMessage, OutboxRecord, OutboxStore, Publisher, Relay,
    },
};

use crate::backend::{Backend, Dispatch, PerDriver, with_backend};
use crate::dialect::SqlDialect;
use crate::driver::{Conn, DbRow, Driver, backend, bind_other, connection_error};
use crate::outbox_table::OUTBOX_TABLE;
use crate::store::SqlxStore;

/// `SELECT` of the deliverable messages, oldest first.
fn claim_sql<S: SqlDialect>() -> String {
    let p = S::placeholder;
    let lock = S::CLAIM_LOCK;
    format!(
        "SELECT o.seq, o.event_id, o.aggregate_type, o.aggregate_id, o.event_type, o.payload, o.created_at, o.attempts \
         FROM {table} o \
         WHERE o.delivered_at IS NULL AND o.dead_at IS NULL AND o.next_attempt_at <= {now} \
         ORDER BY o.seq LIMIT {limit}{lock}",
        table = OUTBOX_TABLE,
        now = p(1),
        limit = p(2),
    )
}

fn delivered_sql<S: SqlDialect>() -> String {
    let p = S::placeholder;
    format!(
        "UPDATE {OUTBOX_TABLE} SET delivered_at = {} WHERE seq = {}",
        p(1),
        p(2)
    )
}

fn dead_sql<S: SqlDialect>() -> String {
    let p = S::placeholder;
    format!(
        "UPDATE {OUTBOX_TABLE} SET attempts = attempts + 1, dead_at = {}, last_error = {} WHERE seq = {}",
        p(1),
        p(2),
        p(3)
    )
}

fn dead_messages_sql() -> String {
    format!(
        "SELECT seq, event_id, aggregate_type, aggregate_id, event_type, payload, created_at, attempts, \
         last_error, dead_at FROM {OUTBOX_TABLE} WHERE dead_at IS NOT NULL ORDER BY seq"
    )
}

fn requeue_sql<S: SqlDialect>() -> String {
    format!(
        "UPDATE {OUTBOX_TABLE} SET dead_at = NULL, attempts = 0, next_attempt_at = 0 \
         WHERE seq = {} AND dead_at IS NOT NULL",
        S::placeholder(1)
    )
}

fn failed_sql<S: SqlDialect>() -> String {
    let p = S::placeholder;
    format!(
        "UPDATE {OUTBOX_TABLE} SET attempts = attempts + 1, next_attempt_at = {}, last_error = {} WHERE seq = {}",
        p(1),
        p(2),
        p(3)
    )
}

const KINDS: [ColumnKind; 8] = [
    ColumnKind::BigInt,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::BigInt,
    ColumnKind::Int,
];

/// The integer in an integer column of the outbox; `None` for NULL (or a
/// value of another kind, which such a column never holds).
fn int_of(value: &Value) -> Option<i64> {
    match value {
        Value::Int(i) => Some(*i),
        Value::Null
        | Value::Bool(_)
        | Value::Float(_)
        | Value::Text(_)
        | Value::Bytes(_)
        | Value::Json(_)
        | Value::Uuid(_)
        | Value::Timestamp(_)
        | Value::Date(_)
        | Value::Time(_)
        | Value::Decimal(_) => None,
    }
}

/// The text in a text column of the outbox; `None` for NULL (or a value of
/// another kind, which such a column never holds).
fn text_of(value: &Value) -> Option<&str> {
    match value {
        Value::Text(t) | Value::Json(t) => Some(t),
        Value::Null
        | Value::Bool(_)
        | Value::Int(_)
        | Value::Float(_)
        | Value::Bytes(_)
        | Value::Uuid(_)
        | Value::Timestamp(_)
        | Value::Date(_)
        | Value::Time(_)
        | Value::Decimal(_) => None,
    }
}

fn message<D: Driver>(row: &DbRow<D>) -> Result<OutboxMessage, Error> {
    let mut values = Vec::with_capacity(KINDS.len());
    for (i, kind) in KINDS.into_iter().enumerate() {
        values.push(D::get(row, i, kind).map_err(|e| {
            Error::Backend(BackendError::new(
                format!("read the {OUTBOX_TABLE} table"),
                e,
            ))
        })?);
    }
    let mut values = values.into_iter();
    let mut next = || values.next().unwrap_or(Value::Null);
    let int = |v: Value| int_of(&v).unwrap_or(0);
    let text = |v: Value| text_of(&v).map_or_else(|| v.to_string(), str::to_owned);
    Ok(OutboxMessage {
        seq: int(next()),
        record: OutboxRecord {
            event_id: text(next()),
            aggregate_type: text(next()),
            aggregate_id: text(next()),
            event_type: text(next()),
            payload: text(next()),
            created_at: int(next()),
        },
        attempts: u32::try_from(int(next())).unwrap_or(u32::MAX),
    })
}

/// The undelivered messages of the aggregates of `claimed`, up to the last
/// claimed sequence number: `(seq, aggregate type, aggregate id)`.
fn pending_sql<S: SqlDialect>(aggregates: usize) -> String {
    let mut n = 1;
    let mut p = || {
        n += 1;
        S::placeholder(n)
    };
    let pairs: Vec<String> = (0..aggregates)
        .map(|_| format!("({}, {})", p(), p()))
        .collect();
    format!(
        "SELECT seq, aggregate_type, aggregate_id FROM {OUTBOX_TABLE} \
         WHERE delivered_at IS NULL AND dead_at IS NULL AND seq <= {} \
         AND (aggregate_type, aggregate_id) IN ({}) \
         ORDER BY seq",
        S::placeholder(1),
        pairs.join(", ")
    )
}

/// Keeps, per aggregate, the claimed messages that form a run from its
/// oldest undelivered message: a message whose predecessor is held by
/// another relay or waiting for its retry must wait too.
async fn deliverable<D: Driver>(
    conn: &mut Conn<D>,
    claimed: Vec<OutboxMessage>,
) -> Result<Vec<OutboxMessage>, Error> {
    let Some(last) = claimed.last().map(|m| m.seq) else {
        return Ok(claimed);
    };
    let mut aggregates: Vec<(String, String)> = claimed
        .iter()
        .map(|m| {
            (
                m.record.aggregate_type.clone(),
                m.record.aggregate_id.clone(),
            )
        })
        .collect();
    aggregates.sort();
    aggregates.dedup();
    let mut stmt = sqlx::query(sqlx::AssertSqlSafe(pending_sql::<D::Sql>(aggregates.len())));
    stmt = bind_other::<D>(stmt, Value::Int(last), ColumnKind::BigInt, "a sequence")?;
    for (kind, id) in &aggregates {
        stmt = bind_other::<D>(stmt, Value::Text(kind.clone()), ColumnKind::Text, "a type")?;
        stmt = bind_other::<D>(stmt, Value::Text(id.clone()), ColumnKind::Text, "an id")?;
    }
    let rows = D::fetch_all(conn, stmt)
        .await
        .map_err(|e| backend::<D>(format!("read pending messages of {OUTBOX_TABLE}"), e))?;
    let claimed_seqs: std::collections::HashSet<i64> = claimed.iter().map(|m| m.seq).collect();
    let mut blocked = std::collections::HashSet::new();
    let mut runs = std::collections::HashSet::new();
    for row in &rows {
        let read = |i, kind| {
            D::get(row, i, kind).map_err(|e| {
                Error::Backend(BackendError::new(
                    format!("read the {OUTBOX_TABLE} table"),
                    e,
                ))
            })
        };
        let Some(seq) = int_of(&read(0, ColumnKind::BigInt)?) else {
            continue;
        };
        let aggregate = (
            read(1, ColumnKind::Text)?.to_string(),
            read(2, ColumnKind::Text)?.to_string(),
        );
        if blocked.contains(&aggregate) {
            continue;
        }
        if claimed_seqs.contains(&seq) {
            runs.insert(seq);
        } else {
            blocked.insert(aggregate);
        }
    }
    Ok(claimed
        .into_iter()
        .filter(|m| runs.contains(&m.seq))
        .collect())
}

async fn select_messages<D: Driver>(
    conn: &mut Conn<D>,
    limit: usize,
) -> Result<Vec<OutboxMessage>, Error> {
    let stmt = sqlx::query(sqlx::AssertSqlSafe(claim_sql::<D::Sql>()));
    let stmt = bind_other::<D>(
        stmt,
        Value::Int(now_micros()),
        ColumnKind::BigInt,
        "the time",
    )?;
    let stmt = bind_other::<D>(
        stmt,
        Value::Int(i64::try_from(limit).unwrap_or(i64::MAX)),
        ColumnKind::BigInt,
        "the limit",
    )?;
    let rows = D::fetch_all(conn, stmt)
        .await
        .map_err(|e| backend::<D>(format!("claim messages of {OUTBOX_TABLE}"), e))?;
    let claimed = rows
        .iter()
        .map(message::<D>)
        .collect::<Result<Vec<_>, _>>()?;
    deliverable::<D>(conn, claimed).await
}

async fn mark<D: Driver>(conn: &mut Conn<D>, marks: Vec<Mark>) -> Result<(), Error> {
    let now = now_micros();
    for mark in marks {
        let stmt = match mark {
            Mark::Delivered(seq) => {
                let stmt = sqlx::query(sqlx::AssertSqlSafe(delivered_sql::<D::Sql>()));
                let stmt = bind_other::<D>(stmt, Value::Int(now), ColumnKind::BigInt, "the time")?;
                bind_other::<D>(stmt, Value::Int(seq), ColumnKind::BigInt, "a sequence")?
            }
            Mark::Failed {
                seq,
                error,
                retry_at,
            } => {
                let stmt = sqlx::query(sqlx::AssertSqlSafe(failed_sql::<D::Sql>()));
                let stmt =
                    bind_other::<D>(stmt, Value::Int(retry_at), ColumnKind::BigInt, "the time")?;
                let stmt = bind_other::<D>(stmt, Value::Text(error), ColumnKind::Text, "an error")?;
                bind_other::<D>(stmt, Value::Int(seq), ColumnKind::BigInt, "a sequence")?
            }
            Mark::Dead { seq, error } => {
                let stmt = sqlx::query(sqlx::AssertSqlSafe(dead_sql::<D::Sql>()));
                let stmt = bind_other::<D>(stmt, Value::Int(now), ColumnKind::BigInt, "the time")?;
                let stmt = bind_other::<D>(stmt, Value::Text(error), ColumnKind::Text, "an error")?;
                bind_other::<D>(stmt, Value::Int(seq), ColumnKind::BigInt, "a sequence")?
            }
        };
        D::execute(conn, stmt)
            .await
            .map_err(|e| backend::<D>(format!("mark messages of {OUTBOX_TABLE}"), e))?;
    }
    Ok(())
}

#[derive(Debug)]
enum Mark {
    Delivered(i64),
    Failed {
        seq: i64,
        error: String,
        retry_at: i64,
    },
    Dead {
        seq: i64,
        error: String,
    },
}

/// Messages claimed by one relay from a database outbox.
#[derive(Debug)]
pub struct SqlxClaim {
    session: Backend<ClaimSessions>,
    messages: Vec<OutboxMessage>,
    marks: Vec<Mark>,
    /// The relay's name and its lease's length (where relays take turns).
    relay: String,
    lease: Duration,
}

/// The claim sessions, on each database.
#[derive(Debug)]
struct ClaimSessions;

impl PerDriver for ClaimSessions {
    type Of<D: Driver> = ClaimSession<D>;
}

/// What holds one relay's claim on a database of driver `D`.
enum ClaimSession<D: Driver> {
    /// The lease was held by another relay: nothing was claimed.
    Nothing,
    /// The connection that holds the relay lease ([`Driver::RELAY_LEASE`]).
    Lease(PoolConnection<D::Db>),
    /// The transaction whose `FOR UPDATE SKIP LOCKED` holds the rows.
    Locked(sqlx::Transaction<'static, D::Db>),
}

/// Claims up to `limit` deliverable messages for `relay`.
async fn claim<D: Driver>(
    pool: &sqlx::Pool<D::Db>,
    relay: &str,
    lease: Duration,
    limit: usize,
) -> Result<(ClaimSession<D>, Vec<OutboxMessage>), Error> {
    let context = "begin an outbox claim";
    if D::RELAY_LEASE {
        let mut conn = pool
            .acquire()
            .await
            .map_err(|e| connection_error(context, e))?;
        if !D::take_lease(&mut conn, relay, lease).await? {
            return Ok((ClaimSession::Nothing, Vec::new()));
        }
        let messages = select_messages::<D>(&mut conn, limit).await?;
        Ok((ClaimSession::Lease(conn), messages))
    } else {
        let mut tx = pool
            .begin()
            .await
            .map_err(|e| connection_error(context, e))?;
        let messages = select_messages::<D>(&mut tx, limit).await?;
        Ok((ClaimSession::Locked(tx), messages))
    }
}

impl<D: Driver> ClaimSession<D> {
    /// Renews the relay lease every third of its length; completes when it
    /// could not be renewed. Never completes without a lease.
    async fn keep_alive(&mut self, relay: &str, lease: Duration) {
        let ClaimSession::Lease(conn) = self else {
            return std::future::pending().await;
        };
        loop {
            tokio::time::sleep(lease / 3).await;
            match D::take_lease(conn, relay, lease).await {
                Ok(true) => {}
                Ok(false) => return,
                Err(error) => {
                    tracing::warn!(%error, "the outbox relay lease could not be renewed");
                    return;
                }
            }
        }
    }

    /// Stores the marks and ends the claim.
    async fn finish(self, marks: Vec<Mark>, relay: &str, lease: Duration) -> Result<(), Error> {
        let error = |e| backend::<D>("finish an outbox claim", e);
        match self {
            ClaimSession::Nothing => Ok(()),
            ClaimSession::Locked(mut tx) => {
                mark::<D>(&mut tx, marks).await?;
                tx.commit().await.map_err(error)
            }
            ClaimSession::Lease(mut conn) => {
                // Fenced: a relay that lost its lease stores nothing (its
                // messages are delivered again by the lease's holder).
                if !D::take_lease(&mut conn, relay, lease).await? {
                    return Err(Error::Backend(BackendError::new(
                        "finish an outbox claim",
                        format!(
                            "relay `{relay}` lost the outbox lease to another relay; its marks were not stored"
                        ),
                    )));
                }
                let mut tx = conn
                    .begin_with(sqlx::AssertSqlSafe(D::WRITE_BEGIN))
                    .await
                    .map_err(error)?;
                mark::<D>(&mut tx, marks).await?;
                tx.commit().await.map_err(error)
            }
        }
    }
}

impl OutboxStore for SqlxStore {
    type Claim = SqlxClaim;

    fn claim(
        &self,
        relay: &str,
        limit: usize,
    ) -> impl Future<Output = Result<SqlxClaim, Error>> + Send {
        let store = self.clone();
        let relay = relay.to_owned();
        let lease = self.inner().relay_lease;
        async move {
            store.inner().executed.fetch_add(1, Ordering::Relaxed);
            let (session, messages) = with_backend!(store.pool(), |pool, D| {
                let (session, messages) = claim::<D>(pool, &relay, lease, limit).await?;
                (D::wrap::<ClaimSessions>(session), messages)
            });
            Ok(SqlxClaim {
                session,
                messages,
                marks: Vec::new(),
                relay,
                lease,
            })
        }
    }

    fn dead_messages(&self) -> impl Future<Output = Result<Vec<DeadMessage>, Error>> + Send {
        let store = self.clone();
        async move {
            with_backend!(store.pool(), |pool, D| dead::<D>(
                &mut *acquire(pool).await?
            )
            .await)
        }
    }

    fn requeue(&self, seq: i64) -> impl Future<Output = Result<bool, Error>> + Send {
        let store = self.clone();
        async move {
            with_backend!(store.pool(), |pool, D| requeue::<D>(
                &mut *acquire(pool).await?,
                seq
            )
            .await)
        }
    }
}

async fn acquire<DB: sqlx::Database>(pool: &sqlx::Pool<DB>) -> Result<PoolConnection<DB>, Error> {
    pool.acquire()
        .await
        .map_err(|e| connection_error("read the dead messages of the outbox", e))
}

async fn dead<D: Driver>(conn: &mut Conn<D>) -> Result<Vec<DeadMessage>, Error> {
    let rows = D::fetch_all(conn, sqlx::query(sqlx::AssertSqlSafe(dead_messages_sql())))
        .await
        .map_err(|e| backend::<D>(format!("read the dead messages of {OUTBOX_TABLE}"), e))?;
    rows.iter()
        .map(|row| {
            let read = |i, kind| {
                D::get(row, i, kind).map_err(|e| {
                    Error::Backend(BackendError::new(
                        format!("read the {OUTBOX_TABLE} table"),
                        e,
                    ))
                })
            };
            let last_error = text_of(&read(8, ColumnKind::Text)?)
                .unwrap_or_default()
                .to_owned();
            let dead_at = int_of(&read(9, ColumnKind::BigInt)?).unwrap_or(0);
            Ok(DeadMessage {
                message: message::<D>(row)?,
                last_error,
                dead_at,
            })
        })
        .collect()
}

async fn requeue<D: Driver>(conn: &mut Conn<D>, seq: i64) -> Result<bool, Error> {
    let stmt = bind_other::<D>(
        sqlx::query(sqlx::AssertSqlSafe(requeue_sql::<D::Sql>())),
        Value::Int(seq),
        ColumnKind::BigInt,
        "a sequence",
    )?;
    D::execute(conn, stmt)
        .await
        .map(|n| n == 1)
        .map_err(|e| backend::<D>(format!("requeue message {seq} of {OUTBOX_TABLE}"), e))
}

impl OutboxClaim for SqlxClaim {
    fn messages(&self) -> &[OutboxMessage] {
        &self.messages
    }

    fn delivered(&mut self, seq: i64) {
        self.marks.push(Mark::Delivered(seq));
    }

    fn failed(&mut self, seq: i64, error: String, retry_at: i64) {
        self.marks.push(Mark::Failed {
            seq,
            error,
            retry_at,
        });
    }

    fn dead(&mut self, seq: i64, error: String) {
        self.marks.push(Mark::Dead { seq, error });
    }

    /// Where relays take turns (SQLite): renews the relay lease every third
    /// of its length while the relay publishes; completes when the lease
    /// could not be renewed (another relay holds it, or the database
    /// failed).
    async fn keep_alive(&mut self) {
        let (relay, lease) = (self.relay.as_str(), self.lease);
        with_backend!(&mut self.session, |session, D| session
            .keep_alive(relay, lease)
            .await)
    }

    async fn finish(self) -> Result<(), Error> {
        let (marks, relay, lease) = (self.marks, self.relay, self.lease);
        with_backend!(self.session, |session, D| session
            .finish(marks, &relay, lease)
            .await)
    }
}

/// Runs `relay` until `stop` completes: one batch after another, pausing
/// `idle` whenever a batch found nothing to deliver, and after an error
/// (logged) so a database outage does not spin.
///
/// ```no_run
/// # async fn run(store: uow_sqlx::SqlxStore, publisher: impl uow_core::outbox::Publisher) {
/// let relay = uow_core::outbox::Relay::new("relay-1", store, publisher);
/// let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
/// # drop(stop);
/// // Runs until `stop` is sent (or dropped).
/// uow_sqlx::run_relay(&relay, std::time::Duration::from_millis(200), stopped).await;
/// # }
/// ```
pub async fn run_relay<O, P, F>(relay: &Relay<O, P>, idle: Duration, stop: F)
where
    O: OutboxStore,
    P: Publisher,
    F: Future,
{
    let work = async {
        loop {
            match catch_panic(relay.run_once()).await {
                Ok(report) if report.delivered + report.failed > 0 => {
                    tracing::debug!(%report, "outbox batch relayed");
                }
                Ok(_) => tokio::time::sleep(idle).await,
                Err(error) => {
                    tracing::warn!(%error, "outbox relay failed; pausing");
                    tokio::time::sleep(idle).await;
                }
            }
        }
    };
    tokio::select! {
        () = work => {}
        _ = stop => {}
    }
}

/// Runs a batch, turning a panic (of a store, or of a publisher outside
/// `publish`) into an error, so `run_relay` goes on.
async fn catch_panic(
    batch: impl Future<Output = Result<uow_core::outbox::RelayReport, Error>>,
) -> Result<uow_core::outbox::RelayReport, Error> {
    let mut batch = std::pin::pin!(batch);
    std::future::poll_fn(|cx| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| batch.as_mut().poll(cx)))
            .unwrap_or_else(|_| {
                std::task::Poll::Ready(Err(Error::Backend(BackendError::new(
                    "relay an outbox batch",
                    "a panic in the relay's batch (caught; the batch's claim is released)",
                ))))
            })
    })
    .await
}
