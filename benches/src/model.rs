//! The one table every implementation works on, written three ways: a uow
//! aggregate, the row a hand-written sqlx query decodes, and a SeaORM entity.

use uow_core::{Aggregate, unit_of_work};

/// The table name, shared by the three implementations.
pub const TABLE: &str = "bench_accounts";

/// Ids 1..=SEEDED are stored before the benchmarks run; loads and updates use
/// them. Inserted rows take ids above [`INSERTED_FROM`] and are deleted
/// again after each run.
pub const SEEDED: i64 = 1_000;
/// The first id of rows inserted by the bulk-insert benchmarks.
pub const INSERTED_FROM: i64 = 1_000_000;

/// A bank account: the uow aggregate.
#[derive(Aggregate, Clone, Debug, PartialEq)]
#[aggregate(table = "bench_accounts")]
pub struct Account {
    #[aggregate(id)]
    pub id: i64,
    #[aggregate(version)]
    pub version: i64,
    pub owner: String,
    pub email: String,
    pub balance: i64,
    pub active: bool,
}

/// The unit of work of the benchmark: one repository.
#[unit_of_work]
pub struct Ledger {
    pub accounts: Account,
}

/// The account with id `id`, as first stored (version 0 before the first
/// commit; every implementation stores it with version 1).
pub fn account(id: i64) -> Account {
    Account {
        id,
        version: 0,
        owner: format!("Owner number {id}"),
        email: format!("owner.{id}@example.com"),
        balance: id * 10,
        active: id % 2 == 0,
    }
}

/// The row as a hand-written sqlx query decodes it.
pub type Row = (i64, i64, String, String, i64, bool);

impl From<Row> for Account {
    fn from((id, version, owner, email, balance, active): Row) -> Self {
        Account {
            id,
            version,
            owner,
            email,
            balance,
            active,
        }
    }
}

/// The SeaORM entity of the same table.
pub mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "bench_accounts")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: i64,
        pub version: i64,
        pub owner: String,
        pub email: String,
        pub balance: i64,
        pub active: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}

    impl From<super::Account> for Model {
        fn from(a: super::Account) -> Self {
            Model {
                id: a.id,
                version: a.version,
                owner: a.owner,
                email: a.email,
                balance: a.balance,
                active: a.active,
            }
        }
    }
}

/// `TABLE` is what the derive and the entity name.
const _: () = {
    let a = Account::META.table.as_bytes();
    let b = TABLE.as_bytes();
    assert!(a.len() == b.len());
    let mut i = 0;
    while i < a.len() {
        assert!(a[i] == b[i]);
        i += 1;
    }
};
