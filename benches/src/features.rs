//! (10)–(12): features of this round on a hot path, each against its
//! hand-written equivalent (`--benches features`):
//!
//! - (10) the commit-outcome check: (2) through uow with its commit markers
//!   on, against hand-written sqlx that inserts a marker row of its own in
//!   the transaction of the `UPDATE`;
//! - (11) the inbox: a new message handled exactly once, its effect (2)'s
//!   deposit, through `uow_core::inbox::Inbox::handle`, against hand-written
//!   sqlx that inserts the message id into a processed-messages table in
//!   the transaction of the change, a duplicate key meaning "already
//!   handled";
//! - (12) the same with a message already handled (a redelivery).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sqlx::Connection;
use uow_core::inbox::{Handled, Inbox};
use uow_sqlx::SqlxStore;

use crate::backends::{Backend, Database, Pool};
use crate::handwritten::BoxError;
use crate::harness::{Bench, Group, Imp};
use crate::model::SEEDED;

/// The consumer both inboxes record messages for.
const CONSUMER: &str = "bench";
/// Messages handled before the benchmarks run, for (12).
const HANDLED_BEFORE: u64 = 1_000;

/// Numbers the new messages and the hand-written markers of this process.
static NEXT: AtomicU64 = AtomicU64::new(0);

fn next() -> u64 {
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// A message id as a broker carries an outbox event's: 36 characters.
fn message_id(n: u64) -> String {
    format!("00000000-0000-7000-8000-{n:012}")
}

/// A marker id of the hand-written commit: 36 characters, like uow's unit
/// ids, and sorting by time as theirs do.
fn marker_id() -> String {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros());
    format!("{micros:016x}-7000-8000-{:012x}", next())
}

/// Creates uow's inbox and the hand-written tables (processed messages,
/// commit markers) afresh, and records [`HANDLED_BEFORE`] messages in both
/// inboxes.
pub async fn setup(db: &Database) -> Result<(), BoxError> {
    for table in ["uow_inbox", "bench_processed", "bench_markers"] {
        db.execute(&format!("DROP TABLE IF EXISTS {table}")).await?;
    }
    db.store.create_inbox().await?;
    let (key, markers) = match db.backend {
        Backend::SqliteFile | Backend::SqliteMemory => ("TEXT", " WITHOUT ROWID"),
        Backend::Postgres => ("TEXT", ""),
        Backend::MySql => ("VARCHAR(64)", ""),
    };
    db.execute(&format!(
        "CREATE TABLE bench_processed (consumer {key} NOT NULL, message_id {key} NOT NULL, \
         received_at BIGINT NOT NULL, PRIMARY KEY (consumer, message_id))"
    ))
    .await?;
    db.execute("CREATE INDEX bench_processed_received ON bench_processed (received_at)")
        .await?;
    db.execute(&format!(
        "CREATE TABLE bench_markers (unit_id {key} NOT NULL PRIMARY KEY, fenced BIGINT NOT NULL){markers}"
    ))
    .await?;
    let values: Vec<String> = (0..HANDLED_BEFORE)
        .map(|n| format!("('{CONSUMER}', '{}', 1)", message_id(n)))
        .collect();
    for table in ["uow_inbox", "bench_processed"] {
        db.execute(&format!(
            "INSERT INTO {table} (consumer, message_id, received_at) VALUES {}",
            values.join(", ")
        ))
        .await?;
    }
    NEXT.store(HANDLED_BEFORE, Ordering::Relaxed);
    Ok(())
}

/// The statements of one dialect.
struct Sql {
    select: &'static str,
    update: &'static str,
    marker: &'static str,
    processed: &'static str,
}

const QUESTION_MARKS: Sql = Sql {
    select: "SELECT id, version, owner, email, balance, active FROM bench_accounts WHERE id = ?",
    update: "UPDATE bench_accounts SET version = ?, owner = ?, email = ?, balance = ?, active = ? WHERE id = ? AND version = ?",
    marker: "INSERT INTO bench_markers (unit_id, fenced) VALUES (?, 0)",
    processed: "INSERT INTO bench_processed (consumer, message_id, received_at) VALUES (?, ?, ?)",
};

const POSTGRES: Sql = Sql {
    select: "SELECT id, version, owner, email, balance, active FROM bench_accounts WHERE id = $1",
    update: "UPDATE bench_accounts SET version = $1, owner = $2, email = $3, balance = $4, active = $5 WHERE id = $6 AND version = $7",
    marker: "INSERT INTO bench_markers (unit_id, fenced) VALUES ($1, 0)",
    processed: "INSERT INTO bench_processed (consumer, message_id, received_at) VALUES ($1, $2, $3)",
};

fn micros_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// The hand-written work, once per database type, in uow's transaction
/// boundaries: one connection; the writes in one transaction (`BEGIN
/// IMMEDIATE` on SQLite, READ COMMITTED on the servers).
macro_rules! handwritten {
    ($module:ident, $db:ty) => {
        mod $module {
            use super::*;
            type DbConn = <$db as sqlx::Database>::Connection;

            async fn load(
                conn: &mut DbConn,
                sql: &Sql,
                id: i64,
            ) -> Result<crate::model::Account, BoxError> {
                let row = sqlx::query_as::<_, crate::model::Row>(sql.select)
                    .bind(id)
                    .fetch_optional(conn)
                    .await?
                    .ok_or("no such account")?;
                Ok(row.into())
            }

            /// (2)'s version-checked update of the account, one more.
            async fn deposit(
                conn: &mut DbConn,
                sql: &Sql,
                mut a: crate::model::Account,
            ) -> Result<(), BoxError> {
                a.balance += 1;
                let done = sqlx::query(sql.update)
                    .bind(a.version + 1)
                    .bind(&a.owner)
                    .bind(&a.email)
                    .bind(a.balance)
                    .bind(a.active)
                    .bind(a.id)
                    .bind(a.version)
                    .execute(conn)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(format!("account {} was changed by someone else", a.id).into());
                }
                Ok(())
            }

            /// (10): load (autocommit), then `BEGIN`, the update, the
            /// marker's insert, `COMMIT`.
            pub async fn marked_deposit(
                pool: &sqlx::Pool<$db>,
                sql: &Sql,
                id: i64,
                begin: &'static str,
            ) -> Result<(), BoxError> {
                let mut conn = pool.acquire().await?;
                let account = load(&mut conn, sql, id).await?;
                let mut tx = conn.begin_with(begin).await?;
                deposit(&mut tx, sql, account).await?;
                sqlx::query(sql.marker)
                    .bind(marker_id())
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            /// (11), (12): `BEGIN`, the processed message's insert (a
            /// duplicate key: already handled, roll back), the load, the
            /// update, `COMMIT`.
            pub async fn handle(
                pool: &sqlx::Pool<$db>,
                sql: &Sql,
                message: &str,
                id: i64,
                begin: &'static str,
            ) -> Result<Handled, BoxError> {
                let mut conn = pool.acquire().await?;
                let mut tx = conn.begin_with(begin).await?;
                let inserted = sqlx::query(sql.processed)
                    .bind(CONSUMER)
                    .bind(message)
                    .bind(micros_now())
                    .execute(&mut *tx)
                    .await;
                match inserted {
                    Ok(_) => {}
                    Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                        tx.rollback().await?;
                        return Ok(Handled::AlreadyHandled);
                    }
                    Err(e) => return Err(e.into()),
                }
                let account = load(&mut tx, sql, id).await?;
                deposit(&mut tx, sql, account).await?;
                tx.commit().await?;
                Ok(Handled::Applied)
            }
        }
    };
}

handwritten!(sqlite, sqlx::Sqlite);
handwritten!(postgres, sqlx::Postgres);
handwritten!(mysql, sqlx::MySql);

const SQLITE_BEGIN: &str = "BEGIN IMMEDIATE";
/// The servers' sessions run READ COMMITTED (`backends.rs`).
const SERVER_BEGIN: &str = "BEGIN";

async fn hand_marked(pool: &Pool, id: i64) -> Result<(), BoxError> {
    match pool {
        Pool::Sqlite(p) => sqlite::marked_deposit(p, &QUESTION_MARKS, id, SQLITE_BEGIN).await,
        Pool::Postgres(p) => postgres::marked_deposit(p, &POSTGRES, id, SERVER_BEGIN).await,
        Pool::MySql(p) => mysql::marked_deposit(p, &QUESTION_MARKS, id, SERVER_BEGIN).await,
    }
}

async fn hand_handle(pool: &Pool, message: &str, id: i64) -> Result<Handled, BoxError> {
    match pool {
        Pool::Sqlite(p) => sqlite::handle(p, &QUESTION_MARKS, message, id, SQLITE_BEGIN).await,
        Pool::Postgres(p) => postgres::handle(p, &POSTGRES, message, id, SERVER_BEGIN).await,
        Pool::MySql(p) => mysql::handle(p, &QUESTION_MARKS, message, id, SERVER_BEGIN).await,
    }
}

/// (11), (12) through uow: the inbox of [`CONSUMER`] on `store` handles
/// `message` with (2)'s deposit.
async fn uow_handle(store: &SqlxStore, message: &str, id: i64) -> Result<Handled, BoxError> {
    let inbox = Inbox::new(CONSUMER, store.clone());
    Ok(inbox
        .handle(message, async |store| crate::uow::deposit(&store, id).await)
        .await?)
}

/// One run of (10), (11) or (12): as many operations as fit in `run_time`,
/// each on the next of the seeded accounts; (operations per second,
/// operations).
pub async fn run(
    db: &Database,
    bench: Bench,
    imp: Imp,
    run_time: Duration,
) -> Result<(f64, u64), BoxError> {
    let start = Instant::now();
    let mut k: u64 = 0;
    loop {
        let id = (k as i64 * 7_919) % SEEDED + 1;
        match bench {
            Bench::Outcome => match imp {
                Imp::Sqlx => hand_marked(&db.pool, id).await?,
                _ => crate::uow::deposit(&db.marked, id).await?,
            },
            Bench::Inbox | Bench::InboxRepeat => {
                let (message, expected) = if bench == Bench::Inbox {
                    (message_id(next()), Handled::Applied)
                } else {
                    (message_id(k % HANDLED_BEFORE), Handled::AlreadyHandled)
                };
                let handled = match imp {
                    Imp::Sqlx => hand_handle(&db.pool, &message, id).await?,
                    Imp::Uow => uow_handle(&db.store, &message, id).await?,
                    _ => uow_handle(&db.unmarked, &message, id).await?,
                };
                if handled != expected {
                    return Err(format!("message {message}: {handled:?}, not {expected:?}").into());
                }
            }
            _ => return Err(format!("{} is not a feature benchmark", bench.title()).into()),
        }
        k += 1;
        let elapsed = start.elapsed();
        if elapsed >= run_time {
            return Ok((k as f64 / elapsed.as_secs_f64(), k));
        }
    }
}

/// The implementations of (10), (11) and (12) on `backend`.
pub fn implementations(bench: Bench, backend: Backend) -> Vec<Imp> {
    match bench {
        Bench::Outcome => vec![Imp::UowMarkers, Imp::Sqlx],
        // uow's default store adds its commit markers on the servers.
        Bench::Inbox if !backend.is_sqlite() => vec![Imp::UowNoMarkers, Imp::Sqlx, Imp::Uow],
        _ => vec![Imp::UowNoMarkers, Imp::Sqlx],
    }
}

/// The uow implementation compared with the hand-written one.
fn compared(bench: Bench) -> Imp {
    if bench == Bench::Outcome {
        Imp::UowMarkers
    } else {
        Imp::UowNoMarkers
    }
}

fn cell(m: Option<&crate::harness::Measurement>) -> String {
    match m {
        Some(m) if !m.samples.is_empty() => format!(
            "**{}** <sub>{}–{}</sub>",
            crate::harness::thousands(m.median().round() as usize),
            crate::harness::thousands(m.min().round() as usize),
            crate::harness::thousands(m.max().round() as usize)
        ),
        _ => "–".to_owned(),
    }
}

/// The tables of (10)–(12).
pub fn render(out: &mut String, groups: &[Group]) {
    let ours = |g: &&Group| matches!(g.bench, Bench::Outcome | Bench::Inbox | Bench::InboxRepeat);
    if !groups.iter().any(|g| ours(&g)) {
        return;
    }
    let _ = writeln!(
        out,
        "### Features on a hot path against their hand-written equivalents: (10)–(12) (ops/s)\n\n\
         Each operation works on the next of the seeded accounts, in the transaction boundaries above.\n\n\
         - **(10) the commit-outcome check**: (2) through uow with its commit markers on\n\
         \x20 (`with_commit_markers(true)`: the unit id inserted into `uow_commits` by the commit; at READ\n\
         \x20 COMMITTED on a server folded into the `UPDATE`'s statement), against hand-written sqlx that\n\
         \x20 loads the account, then sends `BEGIN`, the version-checked `UPDATE`, an `INSERT` of a 36-character\n\
         \x20 id into its own marker table (`bench_markers`, keyed by the id as `uow_commits` is) and `COMMIT`.\n\
         - **(11) the inbox, a new message**: `Inbox::handle(message_id, |store| deposit(store))`: the inbox\n\
         \x20 looks the message up (`SELECT` on `uow_inbox`), the handler runs (2), and its commit inserts the\n\
         \x20 inbox record before the `UPDATE`, in one transaction. Hand-written: `BEGIN`, `INSERT` into\n\
         \x20 `bench_processed` (the same columns, key and index as `uow_inbox`; a duplicate key means\n\
         \x20 \"already handled\": roll back), load, `UPDATE`, `COMMIT`. Compared: uow with its commit markers\n\
         \x20 off, so that only the inbox differs; \"uow, default store\" adds the markers the servers have on\n\
         \x20 by default.\n\
         - **(12) the inbox, a redelivered message** (one of 1,000 handled before): uow finds it in the\n\
         \x20 inbox and does not run the handler; hand-written sqlx finds out by the duplicate key of its\n\
         \x20 `INSERT` and rolls back.\n\n\
         uow statements and round trips per operation are the store's counters, which leave out the\n\
         inbox's look-up (`InboxStore::received`, one `SELECT` on a pooled connection): add one to both\n\
         for (11) and (12).\n\n\
         | benchmark | database | uow | sqlx (hand-written) | uow ÷ sqlx | uow, default store | uow statements/op | uow round trips/op |\n\
         |---|---|---|---|---|---|---|---|"
    );
    for g in groups.iter().filter(ours) {
        let uow = compared(g.bench);
        let per_op = |v: Option<f64>| v.map_or("–".to_owned(), |v| format!("{v:.1}"));
        let r = g.ratio(uow, Imp::Sqlx);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            g.bench.title(),
            g.backend.name(),
            cell(g.get(uow)),
            cell(g.get(Imp::Sqlx)),
            r.map_or("–".to_owned(), |r| format!("{r:.2}×")),
            cell(g.get(Imp::Uow)),
            per_op(g.get(uow).and_then(|m| m.statements)),
            per_op(g.get(uow).and_then(|m| m.round_trips)),
        );
    }
    let _ = writeln!(out);
}
