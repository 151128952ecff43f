//! Bad data at run time: the database holds what the aggregates do not
//! expect — a table or a column missing, a NULL in a field that is not an
//! `Option`, JSON that does not fit the field's type, an integer out of the
//! field's range, a value of another type. Rows are corrupted by raw SQL
//! through the store's pool. Each case is a typed error naming the table, the
//! column and the id (`Error::Decode`), or for a missing table or column a
//! backend error whose message names it; never a panic; and the unit of work
//! that met it stores nothing, while the next one on the store succeeds.

use std::sync::atomic::{AtomicU32, Ordering};

use serde::{Deserialize, Serialize};
use uow_core::{Aggregate, Error, backend::AggregateMeta, unit_of_work};
use uow_sqlx::{Dialect, SqlxStore};
use uow_tests::backends::Backend;
use uow_tests::bank::Account;
use uow_tests::raw_sql;

/// One line of a parcel's contents.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub name: String,
    pub count: u32,
}

/// A parcel: a narrow integer, an optional field, a finder and a JSON field.
#[derive(Aggregate, Clone, Debug, PartialEq)]
#[aggregate(table = "parcels")]
pub struct Parcel {
    #[aggregate(id)]
    pub id: i64,
    #[aggregate(version)]
    pub version: u64,
    pub label: String,
    pub weight: u8,
    pub note: Option<String>,
    #[aggregate(find_by)]
    pub depot: String,
    #[aggregate(json)]
    pub contents: Vec<Item>,
}

#[unit_of_work]
pub struct Shipping {
    pub parcels: Parcel,
    pub accounts: Account,
}

const TABLES: &[&AggregateMeta] = &[Parcel::META, Account::META];

fn parcel(id: i64) -> Parcel {
    Parcel {
        id,
        version: 0,
        label: format!("parcel {id}"),
        weight: 12,
        note: None,
        depot: "north".to_owned(),
        contents: vec![Item {
            name: "bolt".to_owned(),
            count: 3,
        }],
    }
}

/// A fresh store with parcels 1 and 2 stored, or `None` when the backend is
/// not available here.
async fn parcels<B: Backend<Store = SqlxStore>>() -> Option<SqlxStore> {
    let store = B::fresh_with(TABLES).await?;
    let mut uow = Shipping::begin(&store).await.expect("begin");
    uow.parcels.add(parcel(1)).expect("add");
    uow.parcels.add(parcel(2)).expect("add");
    uow.commit().await.expect("seed");
    Some(store)
}

/// How a unit of work meets the bad row.
#[derive(Clone, Copy, Debug)]
enum Read {
    Get(i64),
    FindByDepot,
    List,
}

const READS: [Read; 3] = [Read::Get(1), Read::FindByDepot, Read::List];

/// Stages an account, then reads parcels: the read's error, after checking
/// that nothing of the unit was stored and that the next unit of work on the
/// store commits.
async fn rolled_back(store: &SqlxStore, read: Read) -> Error {
    async fn unit(store: &SqlxStore, read: Read) -> Result<(), Error> {
        let mut uow = Shipping::begin(store).await?;
        uow.accounts.add(Account::open("staged", "Ada", "north"))?;
        match read {
            Read::Get(id) => {
                uow.parcels.get(&id).await?;
            }
            Read::FindByDepot => drop(uow.parcels.find_by_depot("north").await?),
            Read::List => drop(uow.parcels.list(10).await?),
        }
        uow.commit().await.map(drop)
    }
    let error = unit(store, read)
        .await
        .expect_err("the bad data is reported");
    let staged = raw_sql::integer(store, "SELECT COUNT(*) FROM accounts WHERE id = 'staged'")
        .await
        .expect("count");
    assert_eq!(staged, 0, "{read:?}: nothing of the unit is stored");
    next_unit_commits(store).await;
    error
}

/// A unit of work that does not touch parcels commits.
async fn next_unit_commits(store: &SqlxStore) {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let id = format!("next-{}", NEXT.fetch_add(1, Ordering::Relaxed));
    let mut uow = Shipping::begin(store).await.expect("begin");
    uow.accounts
        .add(Account::open(&id, "Bob", "south"))
        .expect("add");
    uow.commit().await.expect("the next unit of work commits");
}

/// `error` is `Error::Decode` of `parcels.<column>` of parcel `id`, and its
/// message says so and contains `reason`.
fn assert_decode(error: &Error, column: &str, id: &str, reason: &str) {
    match error {
        Error::Decode {
            aggregate,
            table,
            column: at,
            id: of,
            ..
        } => {
            assert_eq!(
                (*aggregate, *table, *at, of.as_str()),
                ("Parcel", "parcels", column, id),
                "{error}"
            );
        }
        other => panic!("expected a decode error of parcels.{column}, got {other:?}"),
    }
    let text = uow_tests::error_chain(error);
    assert!(
        text.contains(&format!("parcels.{column}")) && text.contains(&format!("`{id}`")),
        "the message names table, column and id: {text}"
    );
    assert!(
        text.contains(reason),
        "the message says why ({reason}): {text}"
    );
}

/// `error` is a backend error whose message contains every one of `names`.
fn assert_backend_naming(error: &Error, names: &[&str]) {
    assert!(
        matches!(error, Error::Backend(_)),
        "expected a backend error, got {error:?}"
    );
    let text = uow_tests::error_chain(error);
    for name in names {
        assert!(text.contains(name), "the message names `{name}`: {text}");
    }
    assert_each_message_once(error);
}

/// No message of `error`'s chain repeats the one of its source: a reporter
/// printing the chain prints the driver's message once.
fn assert_each_message_once(error: &Error) {
    let messages = uow_tests::error_messages(error);
    let chain = messages.join(": ");
    let driver = messages.last().expect("at least the error's own message");
    assert!(
        messages.len() >= 2,
        "the driver's error is a source of {error:?}"
    );
    assert_eq!(
        chain.matches(driver.as_str()).count(),
        1,
        "the driver's message `{driver}` is printed once down the chain: {chain}"
    );
}

/// Lets every column of `parcels` hold NULL (and, on SQLite, values of any
/// type: the table is re-created without `STRICT`).
async fn loosen(store: &SqlxStore) {
    match store.dialect() {
        Dialect::Sqlite => {
            raw_sql::run(
                store,
                &[
                    "ALTER TABLE parcels RENAME TO parcels_strict",
                    "CREATE TABLE parcels (id INTEGER PRIMARY KEY, version INTEGER, label TEXT, \
                     weight INTEGER, note TEXT, depot TEXT, contents TEXT)",
                    "INSERT INTO parcels SELECT * FROM parcels_strict",
                    "DROP TABLE parcels_strict",
                ],
            )
            .await
        }
        Dialect::Postgres => {
            raw_sql::run(
                store,
                &["ALTER TABLE parcels ALTER COLUMN label DROP NOT NULL"],
            )
            .await
        }
        _ => {
            raw_sql::run(
                store,
                &["ALTER TABLE parcels MODIFY label LONGTEXT COLLATE utf8mb4_bin NULL"],
            )
            .await
        }
    }
}

mod scenarios {
    use super::*;

    pub async fn a_missing_table_is_a_backend_error_naming_it<B: Backend<Store = SqlxStore>>() {
        let Some(store) = B::fresh_with(&[Account::META]).await else {
            return;
        };
        for read in READS {
            let error = rolled_back(&store, read).await;
            assert_backend_naming(&error, &["parcels"]);
        }
        let mut uow = Shipping::begin(&store).await.expect("begin");
        uow.accounts
            .add(Account::open("staged", "Ada", "north"))
            .expect("add");
        uow.parcels.add(parcel(3)).expect("add");
        let error = uow.commit().await.expect_err("there is no parcels table");
        assert_backend_naming(&error, &["parcels"]);
        next_unit_commits(&store).await;
    }

    pub async fn a_missing_column_is_a_backend_error_naming_it<B: Backend<Store = SqlxStore>>() {
        let Some(store) = parcels::<B>().await else {
            return;
        };
        raw_sql::run(&store, &["ALTER TABLE parcels DROP COLUMN note"]).await;
        for read in READS {
            let error = rolled_back(&store, read).await;
            assert_backend_naming(&error, &["parcels", "note"]);
        }
        let mut uow = Shipping::begin(&store).await.expect("begin");
        uow.accounts
            .add(Account::open("staged", "Ada", "north"))
            .expect("add");
        uow.parcels.add(parcel(3)).expect("add");
        let error = uow.commit().await.expect_err("there is no note column");
        assert_backend_naming(&error, &["Parcel", "note"]);
        next_unit_commits(&store).await;
    }

    pub async fn a_null_in_a_field_that_is_not_an_option_is_a_decode_error<
        B: Backend<Store = SqlxStore>,
    >() {
        let Some(store) = parcels::<B>().await else {
            return;
        };
        loosen(&store).await;
        raw_sql::run(&store, &["UPDATE parcels SET label = NULL WHERE id = 1"]).await;
        for read in READS {
            let error = rolled_back(&store, read).await;
            assert_decode(&error, "label", "1", "NULL");
        }
    }

    pub async fn json_that_does_not_fit_the_field_is_a_decode_error<
        B: Backend<Store = SqlxStore>,
    >() {
        let Some(store) = parcels::<B>().await else {
            return;
        };
        let mut corruptions = vec![
            // An object where the field is a list.
            r#"UPDATE parcels SET contents = '{"name": "bolt", "count": 3}' WHERE id = 1"#,
            // A negative count where the field is a u32.
            r#"UPDATE parcels SET contents = '[{"name": "bolt", "count": -1}]' WHERE id = 1"#,
            // A missing field.
            r#"UPDATE parcels SET contents = '[{"name": "bolt"}]' WHERE id = 1"#,
        ];
        if store.dialect() == Dialect::Sqlite {
            // SQLite stores JSON as TEXT, so text that is not JSON at all.
            corruptions.push(r#"UPDATE parcels SET contents = '[{"name": ' WHERE id = 1"#);
        }
        for corruption in corruptions {
            raw_sql::run(&store, &[corruption]).await;
            for read in READS {
                let error = rolled_back(&store, read).await;
                assert_decode(&error, "contents", "1", "JSON");
            }
        }
    }

    pub async fn an_integer_out_of_the_field_range_is_a_decode_error<
        B: Backend<Store = SqlxStore>,
    >() {
        let Some(store) = parcels::<B>().await else {
            return;
        };
        raw_sql::run(&store, &["UPDATE parcels SET weight = 300 WHERE id = 1"]).await;
        for read in READS {
            let error = rolled_back(&store, read).await;
            assert_decode(&error, "weight", "1", "300 is out of range for u8");
        }
        raw_sql::run(
            &store,
            &["UPDATE parcels SET weight = 12, version = -1 WHERE id = 1"],
        )
        .await;
        for read in READS {
            let error = rolled_back(&store, read).await;
            assert_decode(&error, "version", "1", "-1 is out of range for u64");
        }
    }

    pub async fn a_value_of_another_type_is_a_decode_error<B: Backend<Store = SqlxStore>>() {
        let Some(store) = parcels::<B>().await else {
            return;
        };
        let retype: &[&str] = match store.dialect() {
            Dialect::Sqlite => {
                loosen(&store).await;
                &[]
            }
            Dialect::Postgres => &["ALTER TABLE parcels ALTER COLUMN weight TYPE TEXT"],
            _ => &["ALTER TABLE parcels MODIFY weight VARCHAR(20) NOT NULL"],
        };
        raw_sql::run(&store, retype).await;
        raw_sql::run(
            &store,
            &["UPDATE parcels SET weight = 'heavy' WHERE id = 1"],
        )
        .await;
        let error = rolled_back(&store, Read::Get(1)).await;
        assert_decode(&error, "weight", "1", "");
    }
}

/// A date and a decimal, which SQLite stores as text.
#[derive(Aggregate, Clone, Debug, PartialEq)]
#[aggregate(table = "dated")]
pub struct Dated {
    #[aggregate(id)]
    pub id: i64,
    #[aggregate(version)]
    pub version: u64,
    pub day: chrono::NaiveDate,
    pub amount: rust_decimal::Decimal,
}

#[unit_of_work]
pub struct Calendar {
    pub dated: Dated,
}

mod text_forms {
    use super::*;

    /// Text in a date or decimal column that is not uow's form — an
    /// impossible date (`2024-02-31`, which a hand-written calendar once
    /// read as 2024-03-02), a decimal written as plain text — is a decode
    /// error naming the column, never another value.
    pub async fn impossible_dates_and_foreign_decimal_text_are_decode_errors<
        B: Backend<Store = SqlxStore>,
    >() {
        const DATED: &[&AggregateMeta] = &[Dated::META];
        let Some(store) = B::fresh_with(DATED).await else {
            return;
        };
        let mut uow = Calendar::begin(&store).await.expect("begin");
        uow.dated
            .add(Dated {
                id: 1,
                version: 0,
                day: chrono::NaiveDate::from_ymd_opt(2024, 2, 29).expect("a date"),
                amount: "10.00".parse().expect("a decimal"),
            })
            .expect("add");
        uow.commit().await.expect("commit");
        for (corruption, column, says) in [
            ("UPDATE dated SET day = '2024-02-31'", "day", "date"),
            ("UPDATE dated SET day = '2023-02-29'", "day", "date"),
            (
                "UPDATE dated SET day = '2024-02-29', amount = '10.00'",
                "amount",
                "decimal",
            ),
        ] {
            raw_sql::run(&store, &[corruption]).await;
            let mut uow = Calendar::begin(&store).await.expect("begin");
            match uow.dated.get(&1).await {
                Err(Error::Decode {
                    column: found,
                    reason,
                    ..
                }) => {
                    assert_eq!(found, column, "{corruption}");
                    assert!(reason.message().contains(says), "{corruption}: {reason}");
                }
                other => panic!("{corruption}: expected a decode error, got {other:?}"),
            }
        }
    }
}

mod stored_as_text {
    use super::text_forms;
    uow_tests::on_backends!([sqlite] text_forms: [
        impossible_dates_and_foreign_decimal_text_are_decode_errors,
    ]);
}

uow_tests::on_backends!([sqlite, postgres, mysql] scenarios: [
    a_missing_table_is_a_backend_error_naming_it,
    a_missing_column_is_a_backend_error_naming_it,
    a_null_in_a_field_that_is_not_an_option_is_a_decode_error,
    json_that_does_not_fit_the_field_is_a_decode_error,
    an_integer_out_of_the_field_range_is_a_decode_error,
    a_value_of_another_type_is_a_decode_error,
]);
