//! The same work through SeaORM's entity API: `find_by_id`, an `ActiveModel`
//! update filtered on the version (optimistic locking: no row updated is the
//! conflict), `insert_many`, and uow's transaction boundaries:
//!
//! - SQLite: reads on the connection (autocommit), writes in one
//!   `BEGIN IMMEDIATE` transaction;
//! - PostgreSQL, MySQL/MariaDB: one transaction per unit of work.

use sea_orm::ActiveValue::Set;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

use crate::handwritten::{BoxError, INSERT_CHUNK};
use crate::model::Account;
use crate::model::entity::{ActiveModel, Column, Entity as Accounts, Model};

/// SeaORM on one database.
pub struct SeaOrm {
    db: DatabaseConnection,
    sqlite: bool,
}

/// A unit of work whose reads are done: on SQLite the reads ran on the
/// pool, elsewhere in the unit of work's transaction.
pub enum Session {
    Sqlite,
    Transaction(DatabaseTransaction),
}

/// Runs a read on the pool (SQLite) or in the unit of work's transaction.
macro_rules! read {
    ($self:ident, $session:expr, |$c:ident| $read:expr) => {
        match $session {
            Session::Sqlite => {
                let $c = &$self.db;
                $read.await
            }
            Session::Transaction(txn) => {
                let $c = txn;
                $read.await
            }
        }
    };
}

/// A changed model and the version it was loaded with.
pub type Change = (ActiveModel, i64);

impl SeaOrm {
    pub fn new(db: DatabaseConnection, sqlite: bool) -> Self {
        SeaOrm { db, sqlite }
    }

    async fn begin(&self) -> Result<Session, DbErr> {
        Ok(if self.sqlite {
            Session::Sqlite
        } else {
            Session::Transaction(self.db.begin().await?)
        })
    }

    /// The write transaction: the unit of work's, or on SQLite a new
    /// `BEGIN IMMEDIATE` one.
    async fn writes(&self, session: Session) -> Result<DatabaseTransaction, DbErr> {
        match session {
            Session::Transaction(txn) => Ok(txn),
            Session::Sqlite => {
                self.db
                    .begin_with_options(TransactionOptions {
                        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                        ..TransactionOptions::default()
                    })
                    .await
            }
        }
    }

    /// (1) Loads one account in a unit of work, then ends it without writing.
    pub async fn load(&self, id: i64) -> Result<Model, BoxError> {
        let session = self.begin().await?;
        let model = read!(self, &session, |c| Accounts::find_by_id(id).one(c))?;
        Ok(model.ok_or("no such account")?)
    }

    /// (2) Begin, load, change, commit with the version check.
    pub async fn deposit(&self, id: i64) -> Result<(), BoxError> {
        let session = self.begin().await?;
        let model =
            read!(self, &session, |c| Accounts::find_by_id(id).one(c))?.ok_or("no such account")?;
        let change = deposit_one(model);
        let txn = self.writes(session).await?;
        update(&txn, change).await?;
        txn.commit().await?;
        Ok(())
    }

    /// (3) One unit of work inserting `accounts` with `insert_many`, in
    /// statements of [`INSERT_CHUNK`] rows (SQLite allows 32,766 parameters
    /// per statement, and `insert_many` does not split).
    pub async fn insert(&self, accounts: Vec<Account>) -> Result<(), BoxError> {
        let session = self.begin().await?;
        let txn = self.writes(session).await?;
        let mut models = accounts.into_iter().map(|a| ActiveModel {
            id: Set(a.id),
            version: Set(1),
            owner: Set(a.owner),
            email: Set(a.email),
            balance: Set(a.balance),
            active: Set(a.active),
        });
        loop {
            let chunk: Vec<ActiveModel> = models.by_ref().take(INSERT_CHUNK).collect();
            if chunk.is_empty() {
                break;
            }
            Accounts::insert_many(chunk)
                .exec_without_returning(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// (4) The reads of a unit of work that changes the first `n` accounts,
    /// and the changes.
    pub async fn load_first(&self, n: u64) -> Result<(Session, Vec<Change>), BoxError> {
        let session = self.begin().await?;
        let models = read!(self, &session, |c| Accounts::find()
            .order_by_asc(Column::Id)
            .limit(n)
            .all(c))?;
        Ok((session, models.into_iter().map(deposit_one).collect()))
    }

    /// (4) Its commit: one version-filtered update per model.
    pub async fn update_each(
        &self,
        session: Session,
        changes: Vec<Change>,
    ) -> Result<(), BoxError> {
        let txn = self.writes(session).await?;
        for change in changes {
            update(&txn, change).await?;
        }
        txn.commit().await?;
        Ok(())
    }
}

/// Adds one to the balance and prepares the version bump.
fn deposit_one(model: Model) -> Change {
    let expected = model.version;
    let balance = model.balance;
    let mut am: ActiveModel = model.into();
    am.balance = Set(balance + 1);
    am.version = Set(expected + 1);
    (am, expected)
}

/// `UPDATE ... SET <changed columns> WHERE id = ? AND version = ?`; no row
/// updated is `DbErr::RecordNotUpdated`, the conflict.
async fn update(txn: &DatabaseTransaction, (am, expected): Change) -> Result<(), DbErr> {
    Accounts::update(am)
        .validate()?
        .filter(Column::Version.eq(expected))
        .exec_without_returning(txn)
        .await?;
    Ok(())
}
