//! The inbox in a database: table `uow_inbox`, one row per message a
//! consumer handled, keyed by (consumer, message id). A commit that carries
//! an inbox record inserts it before any other write (`flush.rs`), so a
//! message already handled fails the commit at once with
//! [`Error::AlreadyReceived`], and of two deliveries handled at once the
//! second waits on the first's key and then fails the same way.

use std::future::Future;

use sqlx::pool::PoolConnection;
use uow_core::Error;
use uow_core::backend::{AggregateMeta, ColumnKind, ColumnMeta, ColumnRole, Value};
use uow_core::inbox::{InboxRecord, InboxStore};

use crate::backend::with_backend;
use crate::dialect::{OutboxTypes, SqlDialect};
use crate::driver::{Conn, Driver, backend, bind_other, connection_error};
use crate::store::SqlxStore;

/// The inbox table's name.
pub const INBOX_TABLE: &str = "uow_inbox";

const fn column(name: &'static str, kind: ColumnKind, role: ColumnRole) -> ColumnMeta {
    ColumnMeta {
        name,
        field: name,
        kind,
        nullable: false,
        role,
    }
}

/// The columns a commit writes, described like an aggregate so the flush's
/// insert writes them (the key is the pair; `message_id` stands as the id
/// in messages).
pub(crate) static INBOX_META: AggregateMeta = AggregateMeta {
    name: "inbox",
    table: INBOX_TABLE,
    columns: &[
        column("consumer", ColumnKind::Text, ColumnRole::Plain),
        column("message_id", ColumnKind::Text, ColumnRole::Id),
        column("received_at", ColumnKind::BigInt, ColumnRole::Version),
    ],
    id: 1,
    version: 2,
    indexes: &[],
    children: &[],
};

/// The row a commit inserts for a record.
pub(crate) fn inbox_row(record: InboxRecord) -> Vec<Value> {
    vec![
        Value::Text(record.consumer),
        Value::Text(record.message_id),
        Value::Int(record.received_at),
    ]
}

/// The DDL of the inbox: the table, keyed by (consumer, message id), and an
/// index on `received_at` for pruning; the key and time columns typed as the
/// outbox's.
pub(crate) fn inbox_ddl_of<S: SqlDialect>() -> Vec<String> {
    let q = S::quote;
    let OutboxTypes { key, big, .. } = S::OUTBOX_TYPES;
    vec![
        format!(
            "CREATE TABLE IF NOT EXISTS {table} (\n    {consumer} {key} NOT NULL,\n    {message_id} {key} NOT NULL,\n    {received_at} {big} NOT NULL,\n    PRIMARY KEY ({consumer}, {message_id})\n){strict}",
            table = q(INBOX_TABLE),
            consumer = q("consumer"),
            message_id = q("message_id"),
            received_at = q("received_at"),
            strict = S::TABLE_OPTIONS,
        ),
        format!(
            "{} {} ON {} ({})",
            S::CREATE_INDEX,
            q("uow_inbox_received_idx"),
            q(INBOX_TABLE),
            q("received_at")
        ),
    ]
}

impl SqlxStore {
    /// Creates the inbox table if missing: what an
    /// [`Inbox`](uow_core::inbox::Inbox) on this store needs.
    pub async fn create_inbox(&self) -> Result<(), Error> {
        for statement in crate::backend::inbox_ddl(self.dialect()) {
            self.execute_ddl(statement, INBOX_TABLE).await?;
        }
        Ok(())
    }
}

impl InboxStore for SqlxStore {
    fn received(
        &self,
        consumer: &str,
        message_id: &str,
    ) -> impl Future<Output = Result<bool, Error>> + Send {
        let store = self.clone();
        let (consumer, message_id) = (consumer.to_owned(), message_id.to_owned());
        async move {
            with_backend!(store.pool(), |pool, D| received::<D>(
                &mut *acquire(pool).await?,
                consumer,
                message_id
            )
            .await)
        }
    }

    fn prune_inbox(&self, received_before: i64) -> impl Future<Output = Result<u64, Error>> + Send {
        let store = self.clone();
        async move {
            with_backend!(store.pool(), |pool, D| prune::<D>(
                &mut *acquire(pool).await?,
                received_before
            )
            .await)
        }
    }
}

async fn acquire<DB: sqlx::Database>(pool: &sqlx::Pool<DB>) -> Result<PoolConnection<DB>, Error> {
    pool.acquire()
        .await
        .map_err(|e| connection_error("read the inbox", e))
}

async fn received<D: Driver>(
    conn: &mut Conn<D>,
    consumer: String,
    message_id: String,
) -> Result<bool, Error> {
    let p = <D::Sql as SqlDialect>::placeholder;
    let sql = format!(
        "SELECT 1 FROM {INBOX_TABLE} WHERE consumer = {} AND message_id = {}",
        p(1),
        p(2)
    );
    let stmt = sqlx::query(sqlx::AssertSqlSafe(sql));
    let stmt = bind_other::<D>(stmt, Value::Text(consumer), ColumnKind::Text, "a consumer")?;
    let stmt = bind_other::<D>(
        stmt,
        Value::Text(message_id),
        ColumnKind::Text,
        "a message id",
    )?;
    D::fetch_optional(conn, stmt)
        .await
        .map(|row| row.is_some())
        .map_err(|e| backend::<D>(format!("read the {INBOX_TABLE} table"), e))
}

async fn prune<D: Driver>(conn: &mut Conn<D>, received_before: i64) -> Result<u64, Error> {
    let sql = format!(
        "DELETE FROM {INBOX_TABLE} WHERE received_at < {}",
        <D::Sql as SqlDialect>::placeholder(1)
    );
    let stmt = bind_other::<D>(
        sqlx::query(sqlx::AssertSqlSafe(sql)),
        Value::Int(received_before),
        ColumnKind::BigInt,
        "a time",
    )?;
    D::execute(conn, stmt)
        .await
        .map_err(|e| backend::<D>(format!("prune the {INBOX_TABLE} table"), e))
}
