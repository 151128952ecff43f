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

/// The writes of a commit.
pub enum Writes<'a> {
    /// One version-checked `UPDATE` per account (each holds its new version).
    UpdateEach(&'a [Account]),
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
