//! A test domain: accounts with finders, a unique field and events; ledger
//! entries with integer ids; and a specimen holding one field of every
//! supported type.

use serde::{Deserialize, Serialize};
use uow_core::{Aggregate, ColumnValue, unit_of_work};

/// An account number: a newtype value object stored as text.
#[derive(
    ColumnValue, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct AccountId(pub String);

impl AccountId {
    /// An id from text.
    pub fn new(id: &str) -> Self {
        AccountId(id.to_owned())
    }
}

/// What happens to an account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum AccountEvent {
    /// Money came in.
    Deposited { account: AccountId, amount: i64 },
    /// The account was closed.
    Closed { account: AccountId },
}

/// An account: the aggregate most scenarios use.
#[derive(Aggregate, Clone, Debug, PartialEq)]
#[aggregate(table = "accounts")]
pub struct Account {
    #[aggregate(id)]
    pub id: AccountId,
    #[aggregate(version)]
    pub version: u64,
    pub owner: String,
    pub balance: i64,
    #[aggregate(find_by)]
    pub branch: String,
    #[aggregate(unique)]
    pub email: Option<String>,
    #[aggregate(find_by)]
    pub nickname: Option<String>,
    #[aggregate(events)]
    pub events: Vec<AccountEvent>,
}

impl Account {
    /// A new account with a zero balance.
    pub fn open(id: &str, owner: &str, branch: &str) -> Self {
        Account {
            id: AccountId::new(id),
            version: 0,
            owner: owner.to_owned(),
            balance: 0,
            branch: branch.to_owned(),
            email: None,
            nickname: None,
            events: Vec::new(),
        }
    }

    /// Adds money, recording an event.
    pub fn deposit(&mut self, amount: i64) {
        self.balance += amount;
        self.events.push(AccountEvent::Deposited {
            account: self.id.clone(),
            amount,
        });
    }
}

/// A ledger entry: an aggregate with an integer id and no events.
#[derive(Aggregate, Clone, Debug, PartialEq)]
#[aggregate(table = "ledger_entries")]
pub struct LedgerEntry {
    #[aggregate(id)]
    pub id: i64,
    #[aggregate(version)]
    pub version: u64,
    #[aggregate(find_by)]
    pub account: String,
    pub amount: i64,
}

/// A value object stored as a JSON document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Address {
    pub street: String,
    pub city: String,
    pub lines: Vec<String>,
}

/// A newtype over an integer.
#[derive(ColumnValue, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cents(pub i64);

/// One field of every supported type.
#[derive(Aggregate, Clone, Debug, PartialEq)]
#[aggregate(table = "specimens")]
pub struct Specimen {
    #[aggregate(id)]
    pub id: uuid::Uuid,
    #[aggregate(version)]
    pub version: u64,
    pub tiny: i8,
    pub small: i16,
    pub medium: i32,
    pub large: i64,
    pub byte: u8,
    pub word: u16,
    pub double_word: u32,
    pub quad_word: u64,
    pub single: f32,
    pub double: f64,
    pub flag: bool,
    pub text: String,
    pub blob: Vec<u8>,
    pub maybe_text: Option<String>,
    pub maybe_number: Option<i64>,
    pub cents: Cents,
    #[aggregate(json)]
    pub address: Address,
    #[aggregate(json)]
    pub tags: Vec<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub local_time: chrono::NaiveDateTime,
    pub birthday: chrono::NaiveDate,
    pub alarm: chrono::NaiveTime,
    pub stamped: time::OffsetDateTime,
    pub due: time::Date,
    pub amount: rust_decimal::Decimal,
    pub maybe_amount: Option<rust_decimal::Decimal>,
}

impl Specimen {
    /// A specimen with id `id` (as a UUID) and a value in every field.
    pub fn sample(id: u128) -> Specimen {
        let at = |y, mo, d, h, mi, s, micro| {
            chrono::NaiveDate::from_ymd_opt(y, mo, d)
                .and_then(|d| d.and_hms_micro_opt(h, mi, s, micro))
                .expect("a valid timestamp")
        };
        Specimen {
            id: uuid::Uuid::from_u128(id),
            version: 0,
            tiny: i8::MIN,
            small: i16::MAX,
            medium: i32::MIN,
            large: i64::MAX,
            byte: u8::MAX,
            word: u16::MAX,
            double_word: u32::MAX,
            quad_word: i64::MAX as u64,
            single: 3.25,
            double: -1.5e300,
            flag: true,
            text: "naïve café – 日本語 🦀 ".to_owned(),
            blob: vec![0, 1, 254, 255, 0],
            maybe_text: Some("present".to_owned()),
            maybe_number: Some(i64::MIN),
            cents: Cents(-12_345),
            address: Address {
                street: "1 \"Quoted\" Lane".to_owned(),
                city: "Zürich".to_owned(),
                lines: vec!["c/o Ada".to_owned(), String::new()],
            },
            tags: vec!["a".to_owned(), "b\nc".to_owned()],
            created_at: at(2024, 2, 29, 23, 59, 58, 123_456).and_utc(),
            local_time: at(1969, 7, 20, 20, 17, 40, 1),
            birthday: chrono::NaiveDate::from_ymd_opt(1815, 12, 10).expect("valid"),
            alarm: chrono::NaiveTime::from_hms_micro_opt(6, 30, 0, 999_999).expect("valid"),
            stamped: time::macros::datetime!(2030-01-02 03:04:05.678901 UTC),
            due: time::macros::date!(2099 - 12 - 31),
            amount: rust_decimal::Decimal::new(-12_345_678_901, 4),
            maybe_amount: None,
        }
    }
}

/// Events of the bank's units of work.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum BankEvent {
    /// An account's event.
    Account(AccountEvent),
}

impl From<AccountEvent> for BankEvent {
    fn from(event: AccountEvent) -> Self {
        BankEvent::Account(event)
    }
}

/// The unit of work of the scenarios.
#[unit_of_work(events = BankEvent)]
pub struct Bank {
    pub accounts: Account,
    pub entries: LedgerEntry,
    pub specimens: Specimen,
}

/// The bank's unit of work with a transactional outbox: its events are
/// stored with its aggregates.
#[unit_of_work(events = BankEvent, outbox)]
pub struct AuditedBank {
    pub accounts: Account,
    pub entries: LedgerEntry,
}

/// The tables of [`Bank`].
pub const TABLES: &[&uow_core::backend::AggregateMeta] =
    <Bank<uow_core::InMemoryStore> as uow_core::UnitOfWork>::AGGREGATES;
