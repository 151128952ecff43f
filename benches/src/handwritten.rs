//! The same work in hand-written sqlx: static SQL (prepared once per
//! connection by sqlx's statement cache), rows decoded into tuples, the same
//! version-checked `UPDATE` as uow, and uow's transaction boundaries (at
//! READ COMMITTED, uow's default):
//!
//! - one pooled connection per unit of work, reads in autocommit;
//! - a commit of one `UPDATE` runs alone in autocommit (PostgreSQL,
//!   MySQL/MariaDB), any other commit in one transaction (`BEGIN IMMEDIATE`
//!   on SQLite; the pool's sessions run READ COMMITTED).
//!
//! And the code a user writes without uow ([`Handwritten::load_plain`],
//! [`Handwritten::deposit_plain`]): `pool.begin()`, `SELECT`,
//! `UPDATE … WHERE version = ?`, `commit()`.

use std::collections::HashMap;
use std::sync::Mutex;

use sqlx::pool::PoolConnection;
use sqlx::{AssertSqlSafe, Connection, MySql, Postgres, SqlSafeStr, SqlStr, Sqlite};

use crate::backends::{Backend, Pool};
use crate::model::Account;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Rows per multi-row `INSERT` (6 parameters a row: far below every
/// database's parameter limit).
pub const INSERT_CHUNK: usize = 1_000;

/// The statement texts of one dialect.
struct Sql {
    select_by_id: &'static str,
    select_first: &'static str,
    update: &'static str,
    insert: &'static str,
    /// (7): 51 active accounts after a position, richest first (the 51st
    /// says whether there is a next page).
    page: &'static str,
    numbered: bool,
}

const QUESTION_MARKS: Sql = Sql {
    select_by_id: "SELECT id, version, owner, email, balance, active FROM bench_accounts WHERE id = ?",
    select_first: "SELECT id, version, owner, email, balance, active FROM bench_accounts ORDER BY id LIMIT ?",
    update: "UPDATE bench_accounts SET version = ?, owner = ?, email = ?, balance = ?, active = ? WHERE id = ? AND version = ?",
    insert: "INSERT INTO bench_accounts (id, version, owner, email, balance, active) VALUES (?, ?, ?, ?, ?, ?)",
    page: "SELECT id, version, owner, email, balance, active FROM bench_accounts WHERE active = ? AND (balance < ? OR (balance = ? AND id > ?)) ORDER BY balance DESC, id ASC LIMIT 51",
    numbered: false,
};

const POSTGRES: Sql = Sql {
    select_by_id: "SELECT id, version, owner, email, balance, active FROM bench_accounts WHERE id = $1",
    select_first: "SELECT id, version, owner, email, balance, active FROM bench_accounts ORDER BY id LIMIT $1",
    update: "UPDATE bench_accounts SET version = $1, owner = $2, email = $3, balance = $4, active = $5 WHERE id = $6 AND version = $7",
    insert: "INSERT INTO bench_accounts (id, version, owner, email, balance, active) VALUES ($1, $2, $3, $4, $5, $6)",
    page: "SELECT id, version, owner, email, balance, active FROM bench_accounts WHERE active = $1 AND (balance < $2 OR (balance = $3 AND id > $4)) ORDER BY balance DESC, id ASC LIMIT 51",
    numbered: true,
};

/// Hand-written sqlx on one database.
pub struct Handwritten {
    pool: Pool,
    sql: &'static Sql,
    /// Multi-row `INSERT` texts by row count, built once.
    multi_row: Mutex<HashMap<usize, SqlStr>>,
    /// Batched `UPDATE` texts by row count, built once.
    batched: Mutex<HashMap<usize, SqlStr>>,
    backend: Backend,
}

/// A unit of work whose reads are done (in autocommit) and whose writes are
/// pending.
pub enum Session {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
    MySql(PoolConnection<MySql>),
}

#[derive(Debug)]
struct Conflict(i64);

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "account {} was changed by someone else", self.0)
    }
}

impl std::error::Error for Conflict {}

/// The statements, once per database type: the bodies are the same, the
/// connection types differ.
macro_rules! statements {
    ($module:ident, $db:ty) => {
        mod $module {
            use super::*;
            type DbConn = <$db as sqlx::Database>::Connection;

            pub async fn load(
                conn: &mut DbConn,
                sql: &Sql,
                id: i64,
            ) -> sqlx::Result<Option<Account>> {
                let row = sqlx::query_as::<_, crate::model::Row>(sql.select_by_id)
                    .bind(id)
                    .fetch_optional(conn)
                    .await?;
                Ok(row.map(Account::from))
            }

            pub async fn load_first(
                conn: &mut DbConn,
                sql: &Sql,
                n: i64,
            ) -> sqlx::Result<Vec<Account>> {
                let rows = sqlx::query_as::<_, crate::model::Row>(sql.select_first)
                    .bind(n)
                    .fetch_all(conn)
                    .await?;
                Ok(rows.into_iter().map(Account::from).collect())
            }

            pub async fn page(
                conn: &mut DbConn,
                sql: &Sql,
                (balance, id): (i64, i64),
            ) -> sqlx::Result<Vec<Account>> {
                let rows = sqlx::query_as::<_, crate::model::Row>(sql.page)
                    .bind(true)
                    .bind(balance)
                    .bind(balance)
                    .bind(id)
                    .fetch_all(conn)
                    .await?;
                Ok(rows.into_iter().map(Account::from).collect())
            }

            /// The version-checked update: `a.version` is the new version.
            pub async fn update(conn: &mut DbConn, sql: &Sql, a: &Account) -> Result<(), BoxError> {
                let done = sqlx::query(sql.update)
                    .bind(a.version)
                    .bind(&a.owner)
                    .bind(&a.email)
                    .bind(a.balance)
                    .bind(a.active)
                    .bind(a.id)
                    .bind(a.version - 1)
                    .execute(conn)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(Conflict(a.id).into());
                }
                Ok(())
            }

            pub async fn insert_one(conn: &mut DbConn, sql: &Sql, a: &Account) -> sqlx::Result<()> {
                sqlx::query(sql.insert)
                    .bind(a.id)
                    .bind(1_i64)
                    .bind(&a.owner)
                    .bind(&a.email)
                    .bind(a.balance)
                    .bind(a.active)
                    .execute(conn)
                    .await?;
                Ok(())
            }

            pub async fn insert_many(
                conn: &mut DbConn,
                text: SqlStr,
                rows: &[Account],
            ) -> sqlx::Result<()> {
                let mut query = sqlx::query(text);
                for a in rows {
                    query = query
                        .bind(a.id)
                        .bind(1_i64)
                        .bind(&a.owner)
                        .bind(&a.email)
                        .bind(a.balance)
                        .bind(a.active);
                }
                query.execute(conn).await?;
                Ok(())
            }
        }
    };
}

statements!(sqlite, Sqlite);
statements!(postgres, Postgres);
statements!(mysql, MySql);

/// A connection a statement runs on: the unit of work's connection or its
/// transaction's.
pub enum Conn<'a> {
    Sqlite(&'a mut sqlx::SqliteConnection),
    Postgres(&'a mut sqlx::PgConnection),
    MySql(&'a mut sqlx::MySqlConnection),
}

/// Runs a statement helper on the connection's database.
macro_rules! on {
    ($conn:expr, $f:ident($($arg:expr),*)) => {
        match $conn {
            Conn::Sqlite(c) => sqlite::$f(c, $($arg),*).await,
            Conn::Postgres(c) => postgres::$f(c, $($arg),*).await,
            Conn::MySql(c) => mysql::$f(c, $($arg),*).await,
        }
    };
}

/// Rows per batched `UPDATE` on SQLite and MariaDB (7 parameters a row).
pub const UPDATE_CHUNK: usize = 1_000;

/// The best batched, version-checked update we know for each database: one
/// statement carries every row's id, expected version and new values, each
/// row guarded by its version, and the affected-row count checks them all
/// (a short count is a conflict: the transaction is rolled back).
///
/// - SQLite: `UPDATE … FROM (VALUES (…), …)`.
/// - PostgreSQL: `UPDATE … FROM UNNEST($1::BIGINT[], …)`, one array per
///   column, one statement for any number of rows.
/// - MariaDB: `UPDATE t JOIN (SELECT ? AS id, … UNION ALL SELECT …) v ON
///   t.id = v.id AND t.version = v.expected SET …`.
mod batched {
    use super::*;

    /// `UPDATE … FROM (VALUES …)` / `JOIN (SELECT … UNION ALL …)` over
    /// `rows` rows, binding per row: id, new version, owner, email,
    /// balance, active, expected version.
    pub fn text(mysql: bool, rows: usize) -> String {
        if mysql {
            let first = "SELECT ? AS id, ? AS version, ? AS owner, ? AS email, ? AS balance, ? AS active, ? AS expected";
            let rest = " UNION ALL SELECT ?, ?, ?, ?, ?, ?, ?".repeat(rows.saturating_sub(1));
            format!(
                "UPDATE bench_accounts AS t JOIN ({first}{rest}) AS v ON t.id = v.id AND t.version = v.expected \
                 SET t.version = v.version, t.owner = v.owner, t.email = v.email, t.balance = v.balance, t.active = v.active"
            )
        } else {
            let tuples = vec!["(?, ?, ?, ?, ?, ?, ?)"; rows].join(", ");
            format!(
                "UPDATE bench_accounts SET version = v.column2, owner = v.column3, email = v.column4, \
                 balance = v.column5, active = v.column6 FROM (VALUES {tuples}) AS v \
                 WHERE bench_accounts.id = v.column1 AND bench_accounts.version = v.column7"
            )
        }
    }

    pub const POSTGRES: &str = "UPDATE bench_accounts AS t SET version = u.version, owner = u.owner, \
        email = u.email, balance = u.balance, active = u.active \
        FROM UNNEST($1::BIGINT[], $2::BIGINT[], $3::TEXT[], $4::TEXT[], $5::BIGINT[], $6::BOOL[], $7::BIGINT[]) \
        AS u (id, version, owner, email, balance, active, expected) \
        WHERE t.id = u.id AND t.version = u.expected";

    macro_rules! values_update {
        ($name:ident, $db:ty) => {
            pub async fn $name(
                conn: &mut <$db as sqlx::Database>::Connection,
                text: SqlStr,
                rows: &[Account],
            ) -> Result<(), BoxError> {
                let mut query = sqlx::query(text);
                for a in rows {
                    query = query
                        .bind(a.id)
                        .bind(a.version)
                        .bind(&a.owner)
                        .bind(&a.email)
                        .bind(a.balance)
                        .bind(a.active)
                        .bind(a.version - 1);
                }
                let done = query.execute(conn).await?;
                if done.rows_affected() != rows.len() as u64 {
                    return Err(Conflict(rows[0].id).into());
                }
                Ok(())
            }
        };
    }

    values_update!(sqlite, Sqlite);
    values_update!(mysql, MySql);

    pub async fn postgres(conn: &mut sqlx::PgConnection, rows: &[Account]) -> Result<(), BoxError> {
        let ids: Vec<i64> = rows.iter().map(|a| a.id).collect();
        let versions: Vec<i64> = rows.iter().map(|a| a.version).collect();
        let owners: Vec<&str> = rows.iter().map(|a| a.owner.as_str()).collect();
        let emails: Vec<&str> = rows.iter().map(|a| a.email.as_str()).collect();
        let balances: Vec<i64> = rows.iter().map(|a| a.balance).collect();
        let active: Vec<bool> = rows.iter().map(|a| a.active).collect();
        let expected: Vec<i64> = rows.iter().map(|a| a.version - 1).collect();
        let done = sqlx::query(POSTGRES)
            .bind(ids)
            .bind(versions)
            .bind(owners)
            .bind(emails)
            .bind(balances)
            .bind(active)
            .bind(expected)
            .execute(conn)
            .await?;
        if done.rows_affected() != rows.len() as u64 {
            return Err(Conflict(rows[0].id).into());
        }
        Ok(())
    }
}

/// The writes of a commit.
pub enum Writes<'a> {
    /// One version-checked `UPDATE` per account (each holds its new version).
    UpdateEach(&'a [Account]),
    /// Batched version-checked `UPDATE`s (see [`batched`]; each account
    /// holds its new version).
    UpdateBatched(&'a [Account]),
    /// Multi-row `INSERT`s of [`INSERT_CHUNK`] rows.
    InsertMultiRow(&'a [Account]),
    /// One `INSERT` per account.
    InsertEach(&'a [Account]),
}

impl Session {
    fn conn(&mut self) -> Conn<'_> {
        match self {
            Session::Sqlite(c) => Conn::Sqlite(c),
            Session::Postgres(t) => Conn::Postgres(t),
            Session::MySql(t) => Conn::MySql(t),
        }
    }
}

impl Handwritten {
    pub fn new(backend: Backend, pool: Pool) -> Self {
        Handwritten {
            pool,
            sql: if backend == Backend::Postgres {
                &POSTGRES
            } else {
                &QUESTION_MARKS
            },
            multi_row: Mutex::new(HashMap::new()),
            batched: Mutex::new(HashMap::new()),
            backend,
        }
    }

    /// Begins a unit of work: a connection for its reads.
    pub async fn begin(&self) -> sqlx::Result<Session> {
        Ok(match &self.pool {
            Pool::Sqlite(p) => Session::Sqlite(p.acquire().await?),
            Pool::Postgres(p) => Session::Postgres(p.acquire().await?),
            Pool::MySql(p) => Session::MySql(p.acquire().await?),
        })
    }

    /// (1) as a user writes it without uow: `pool.begin()`, `SELECT`,
    /// `commit()`.
    pub async fn load_plain(&self, id: i64) -> Result<Account, BoxError> {
        let account = match &self.pool {
            Pool::Sqlite(p) => {
                let mut tx = p.begin().await?;
                let account = sqlite::load(&mut tx, self.sql, id).await?;
                tx.commit().await?;
                account
            }
            Pool::Postgres(p) => {
                let mut tx = p.begin().await?;
                let account = postgres::load(&mut tx, self.sql, id).await?;
                tx.commit().await?;
                account
            }
            Pool::MySql(p) => {
                let mut tx = p.begin().await?;
                let account = mysql::load(&mut tx, self.sql, id).await?;
                tx.commit().await?;
                account
            }
        };
        Ok(account.ok_or("no such account")?)
    }

    /// (2) as a user writes it without uow: `pool.begin()`, `SELECT`,
    /// `UPDATE … WHERE version = ?`, `commit()`.
    pub async fn deposit_plain(&self, id: i64) -> Result<(), BoxError> {
        macro_rules! deposit {
            ($pool:expr, $module:ident) => {{
                let mut tx = $pool.begin().await?;
                let mut account = $module::load(&mut tx, self.sql, id)
                    .await?
                    .ok_or("no such account")?;
                account.balance += 1;
                account.version += 1;
                $module::update(&mut tx, self.sql, &account).await?;
                tx.commit().await?;
            }};
        }
        match &self.pool {
            Pool::Sqlite(p) => deposit!(p, sqlite),
            Pool::Postgres(p) => deposit!(p, postgres),
            Pool::MySql(p) => deposit!(p, mysql),
        }
        Ok(())
    }

    /// (1) Loads one account in a unit of work, then ends it without writing.
    pub async fn load(&self, id: i64) -> Result<Account, BoxError> {
        let mut session = self.begin().await?;
        let account = on!(session.conn(), load(self.sql, id))?;
        Ok(account.ok_or("no such account")?)
    }

    /// (7) One page of 50 active accounts after `position` (balance, id),
    /// richest first, in a unit of work; the number of accounts on it.
    pub async fn page(&self, position: (i64, i64)) -> Result<usize, BoxError> {
        let mut session = self.begin().await?;
        let mut accounts = on!(session.conn(), page(self.sql, position))?;
        accounts.truncate(50);
        Ok(accounts.len())
    }

    /// (2) Begin, load, change, commit with the version check.
    pub async fn deposit(&self, id: i64) -> Result<(), BoxError> {
        let mut session = self.begin().await?;
        let mut account = on!(session.conn(), load(self.sql, id))?.ok_or("no such account")?;
        account.balance += 1;
        account.version += 1;
        self.commit(session, Writes::UpdateEach(std::slice::from_ref(&account)))
            .await
    }

    /// (3) One unit of work inserting `accounts`, in multi-row `INSERT`s or
    /// one `INSERT` per row.
    /// The accounts are the caller's to drop, as uow's unit of work drops
    /// the aggregates added to it.
    pub async fn insert(&self, accounts: Vec<Account>, multi_row: bool) -> Result<(), BoxError> {
        let session = self.begin().await?;
        let writes = if multi_row {
            Writes::InsertMultiRow(&accounts)
        } else {
            Writes::InsertEach(&accounts)
        };
        self.commit(session, writes).await
    }

    /// (4) The reads of a unit of work that changes the first `n` accounts.
    pub async fn load_first(&self, n: i64) -> Result<(Session, Vec<Account>), BoxError> {
        let mut session = self.begin().await?;
        let accounts = on!(session.conn(), load_first(self.sql, n))?;
        Ok((session, accounts))
    }

    /// Runs `writes`: one `UPDATE` alone in autocommit on a server, anything
    /// else in one write transaction.
    pub async fn commit(&self, session: Session, writes: Writes<'_>) -> Result<(), BoxError> {
        let alone = matches!(writes, Writes::UpdateEach([_]));
        match session {
            Session::Sqlite(mut conn) => {
                let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
                self.write(Conn::Sqlite(&mut tx), writes).await?;
                tx.commit().await?;
            }
            Session::Postgres(mut conn) if alone => {
                self.write(Conn::Postgres(&mut conn), writes).await?
            }
            Session::Postgres(mut conn) => {
                let mut tx = conn.begin().await?;
                self.write(Conn::Postgres(&mut tx), writes).await?;
                tx.commit().await?;
            }
            Session::MySql(mut conn) if alone => self.write(Conn::MySql(&mut conn), writes).await?,
            Session::MySql(mut conn) => {
                let mut tx = conn.begin().await?;
                self.write(Conn::MySql(&mut tx), writes).await?;
                tx.commit().await?;
            }
        }
        Ok(())
    }

    async fn write(&self, mut conn: Conn<'_>, writes: Writes<'_>) -> Result<(), BoxError> {
        match writes {
            Writes::UpdateEach(accounts) => {
                for a in accounts {
                    on!(&mut conn, update(self.sql, a))?;
                }
            }
            Writes::UpdateBatched(accounts) => match conn {
                Conn::Postgres(c) => batched::postgres(c, accounts).await?,
                Conn::Sqlite(c) => {
                    for chunk in accounts.chunks(UPDATE_CHUNK) {
                        let text = self.batched_update_sql(chunk.len());
                        batched::sqlite(c, text, chunk).await?;
                    }
                }
                Conn::MySql(c) => {
                    for chunk in accounts.chunks(UPDATE_CHUNK) {
                        let text = self.batched_update_sql(chunk.len());
                        batched::mysql(c, text, chunk).await?;
                    }
                }
            },
            Writes::InsertMultiRow(accounts) => {
                for chunk in accounts.chunks(INSERT_CHUNK) {
                    let text = self.multi_row_sql(chunk.len());
                    on!(&mut conn, insert_many(text, chunk))?;
                }
            }
            Writes::InsertEach(accounts) => {
                for a in accounts {
                    on!(&mut conn, insert_one(self.sql, a))?;
                }
            }
        }
        Ok(())
    }

    /// The batched `UPDATE` over `rows` rows (SQLite, MariaDB), built once.
    fn batched_update_sql(&self, rows: usize) -> SqlStr {
        let mut texts = self.batched.lock().unwrap_or_else(|e| e.into_inner());
        texts
            .entry(rows)
            .or_insert_with(|| {
                AssertSqlSafe(batched::text(self.backend == Backend::MySql, rows)).into_sql_str()
            })
            .clone()
    }

    fn multi_row_sql(&self, rows: usize) -> SqlStr {
        let mut texts = self.multi_row.lock().unwrap_or_else(|e| e.into_inner());
        texts
            .entry(rows)
            .or_insert_with(|| {
                let mut n = 0;
                let mut p = || {
                    n += 1;
                    if self.sql.numbered {
                        format!("${n}")
                    } else {
                        "?".to_owned()
                    }
                };
                let tuples: Vec<String> = (0..rows)
                    .map(|_| {
                        let values: Vec<String> = (0..6).map(|_| p()).collect();
                        format!("({})", values.join(", "))
                    })
                    .collect();
                AssertSqlSafe(format!(
                    "INSERT INTO bench_accounts (id, version, owner, email, balance, active) VALUES {}",
                    tuples.join(", ")
                ))
                .into_sql_str()
            })
            .clone()
    }
}
