//! Differential (model-based) testing of the in-memory store against the
//! databases: proptest generates random programs of up to three interleaved
//! units of work over a few accounts and ledger entries, runs each program on
//! a fresh in-memory store and on a database, and requires every observable
//! outcome to be identical — each step's result or error (kind, aggregate,
//! id, expected version or column; never a driver's message), the events each
//! commit returns, and the stored state at the end.
//!
//! A program is interpreted step by step in one task: "interleaved" means
//! that several units of work are open at once and the steps of one come
//! between the steps of the others.
//!
//! - `in_memory_vs_sqlite` always runs; `in_memory_vs_postgres` and
//!   `in_memory_vs_mysql` when their URLs are set (required with `CI=true`).
//! - `UOW_DIFFERENTIAL_CASES` sets the programs per backend pair (default
//!   1,000); e.g. `UOW_DIFFERENTIAL_CASES=20000` for a longer hunt.
//! - Keys differ only by trailing spaces or case (`a1`, `a1 `, `A1`; the
//!   finder's branches and the unique emails likewise), and a step writes a
//!   specimen with a decimal of mixed scale and precision, and a date, time
//!   and timestamp at the edges of what is stored (or just beyond, which
//!   every store must refuse alike); specimens are compared by their `Debug`
//!   text, so a decimal's scale counts.
//! - A failure is shrunk to a minimal program, printed one step per line,
//!   and its seed recorded in `proptest-regressions/differential.txt`, which
//!   every later run replays first. Programs that once failed are also kept
//!   below as named regression tests.

use std::cell::{Cell, RefCell};
use std::fmt::Write as _;
use std::time::Instant;

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestError, TestRunner};
use uow_core::{Error, InMemoryStore, Store, retry};
use uow_sqlx::SqlxStore;
use uow_tests::backends::{Backend, MySql, Postgres, Sqlite};
use uow_tests::bank::{
    Account, AccountId, AccountRepository, Bank, BankEvent, LedgerEntry, LedgerEntryRepository,
    Specimen, TABLES,
};
use uow_tests::raw_sql;

/// Units of work a program holds open at once (SQLite holds one pooled
/// connection per open unit of work).
const SLOTS: usize = 3;
/// The first three are seeded; the last two differ from `a1` only by a
/// trailing space or by case.
const ACCOUNTS: &[&str] = &["a0", "a1", "a2", "a3", "a1 ", "A1"];
const BRANCHES: &[&str] = &["north", "south", "north ", "North"];
const OWNERS: &[&str] = &["Ada", "Bob"];
const EMAILS: &[Option<&str>] = &[
    None,
    Some("x@bank"),
    Some("y@bank"),
    Some("x@bank "),
    Some("X@bank"),
];
/// Specimens a program writes (ids 1 and 2).
const SPECIMENS: u128 = 2;
const ENTRIES: &[i64] = &[1, 2, 3];

/// One step of a program. `uow` is the slot of the unit of work the step
/// runs in; a step on a slot with no open unit of work begins one first.
#[derive(Clone, Debug)]
enum Step {
    /// Begins a unit of work in the slot (nothing if one is open).
    Begin { uow: usize },
    /// `accounts.get(id)`: an account that may or may not be stored.
    Get { uow: usize, id: &'static str },
    /// `accounts.find_by_branch(branch)`.
    FindByBranch { uow: usize, branch: &'static str },
    /// `accounts.get_by_email(email)`: the unique getter.
    GetByEmail { uow: usize, email: &'static str },
    /// `accounts.list(limit)`.
    List { uow: usize, limit: u64 },
    /// Gets the account and deposits: a changed field and an event.
    Deposit {
        uow: usize,
        id: &'static str,
        amount: i64,
    },
    /// Gets the account and sets its owner (possibly to the same value).
    Rename {
        uow: usize,
        id: &'static str,
        owner: &'static str,
    },
    /// Gets the account and sets its branch (a finder column).
    Move {
        uow: usize,
        id: &'static str,
        branch: &'static str,
    },
    /// Gets the account and sets its email (the unique column).
    SetEmail {
        uow: usize,
        id: &'static str,
        email: Option<&'static str>,
    },
    /// `accounts.add(..)`: a new id, or one that is taken.
    Open {
        uow: usize,
        id: &'static str,
        branch: &'static str,
        email: Option<&'static str>,
    },
    /// `accounts.remove(id)`.
    Close { uow: usize, id: &'static str },
    /// `entries.add(..)`: a second table in the same commit.
    Post {
        uow: usize,
        entry: i64,
        account: &'static str,
    },
    /// `entries.remove(id)`.
    Void { uow: usize, entry: i64 },
    /// `entries.find_by_account(account)`.
    Entries { uow: usize, account: &'static str },
    /// `commit()` of the slot's unit of work.
    Commit { uow: usize },
    /// Drops the slot's unit of work without commit.
    Drop { uow: usize },
    /// Gets specimen `specimen` and sets its decimal, date, time and
    /// timestamp, or adds it with them if it is not stored.
    Stamp {
        uow: usize,
        specimen: u128,
        amount: rust_decimal::Decimal,
        day: chrono::NaiveDate,
        alarm: chrono::NaiveTime,
        at: chrono::DateTime<chrono::Utc>,
    },
    /// A typed query of accounts (`filter`, ordered by `order`, then by
    /// owner when `then_owner`), read page by page of `size` by cursor.
    QueryAccounts {
        uow: usize,
        filter: AccountFilter,
        order: AccountOrder,
        descending: bool,
        then_owner: bool,
        size: u64,
    },
    /// `count()` of the accounts a filter matches.
    CountAccounts { uow: usize, filter: AccountFilter },
    /// Specimens whose decimal is at least `amount` (mixed scales), or
    /// whose timestamp is before `at`, ordered by a decimal, date, time or
    /// timestamp field.
    QuerySpecimens {
        uow: usize,
        amount: rust_decimal::Decimal,
        at: chrono::DateTime<chrono::Utc>,
        by_amount: bool,
        order: u8,
        descending: bool,
    },
    /// `retry(3, ..)` of a deposit in a unit of work of its own; during the
    /// first attempt, between its load and its commit, the unit of work in
    /// slot `rival` (if open) commits.
    Retry {
        id: &'static str,
        amount: i64,
        rival: usize,
    },
}

/// A filter of a generated account query.
#[derive(Clone, Copy, Debug)]
enum AccountFilter {
    Every,
    BalanceAtLeast(i64),
    BranchAfter(&'static str),
    BranchIn(&'static str, &'static str),
    EmailIsNull,
    EmailAfter(&'static str),
    OwnerIs(&'static str),
    NicknameIsNotNull,
}

/// The first ordering term of a generated account query.
#[derive(Clone, Copy, Debug)]
enum AccountOrder {
    Balance,
    Branch,
    Email,
    Owner,
}

fn account_filter() -> impl Strategy<Value = AccountFilter> {
    let branch = || prop::sample::select(BRANCHES);
    prop_oneof![
        Just(AccountFilter::Every),
        (0..150i64).prop_map(AccountFilter::BalanceAtLeast),
        branch().prop_map(AccountFilter::BranchAfter),
        (branch(), branch()).prop_map(|(a, b)| AccountFilter::BranchIn(a, b)),
        Just(AccountFilter::EmailIsNull),
        prop::sample::select(&EMAILS[1..])
            .prop_map(|e| AccountFilter::EmailAfter(e.unwrap_or_default())),
        prop::sample::select(OWNERS).prop_map(AccountFilter::OwnerIs),
        Just(AccountFilter::NicknameIsNotNull),
    ]
}

fn account_order() -> impl Strategy<Value = AccountOrder> {
    prop::sample::select(vec![
        AccountOrder::Balance,
        AccountOrder::Branch,
        AccountOrder::Email,
        AccountOrder::Owner,
    ])
}

fn step() -> impl Strategy<Value = Step> {
    let uow = || 0..SLOTS;
    let id = || prop::sample::select(ACCOUNTS);
    let branch = || prop::sample::select(BRANCHES);
    let email = || prop::sample::select(EMAILS);
    let entry = || prop::sample::select(ENTRIES);
    prop_oneof![
        1 => uow().prop_map(|uow| Step::Begin { uow }),
        3 => (uow(), id()).prop_map(|(uow, id)| Step::Get { uow, id }),
        1 => (uow(), branch()).prop_map(|(uow, branch)| Step::FindByBranch { uow, branch }),
        1 => (uow(), prop::sample::select(&EMAILS[1..]))
            .prop_map(|(uow, email)| Step::GetByEmail { uow, email: email.unwrap_or_default() }),
        1 => (uow(), 0..5u64).prop_map(|(uow, limit)| Step::List { uow, limit }),
        6 => (uow(), id(), 1..100i64)
            .prop_map(|(uow, id, amount)| Step::Deposit { uow, id, amount }),
        2 => (uow(), id(), prop::sample::select(OWNERS))
            .prop_map(|(uow, id, owner)| Step::Rename { uow, id, owner }),
        1 => (uow(), id(), branch()).prop_map(|(uow, id, branch)| Step::Move { uow, id, branch }),
        2 => (uow(), id(), email()).prop_map(|(uow, id, email)| Step::SetEmail { uow, id, email }),
        2 => (uow(), id(), branch(), email())
            .prop_map(|(uow, id, branch, email)| Step::Open { uow, id, branch, email }),
        2 => (uow(), id()).prop_map(|(uow, id)| Step::Close { uow, id }),
        2 => (uow(), entry(), id())
            .prop_map(|(uow, entry, account)| Step::Post { uow, entry, account }),
        1 => (uow(), entry()).prop_map(|(uow, entry)| Step::Void { uow, entry }),
        1 => (uow(), id()).prop_map(|(uow, account)| Step::Entries { uow, account }),
        6 => uow().prop_map(|uow| Step::Commit { uow }),
        1 => uow().prop_map(|uow| Step::Drop { uow }),
        2 => (id(), 1..100i64, uow())
            .prop_map(|(id, amount, rival)| Step::Retry { id, amount, rival }),
        2 => (uow(), account_filter(), account_order(), any::<bool>(), any::<bool>(), 1..4u64)
            .prop_map(|(uow, filter, order, descending, then_owner, size)| Step::QueryAccounts {
                uow,
                filter,
                order,
                descending,
                then_owner,
                size,
            }),
        1 => (uow(), account_filter())
            .prop_map(|(uow, filter)| Step::CountAccounts { uow, filter }),
        1 => (uow(), decimal(), at(), any::<bool>(), 0..4u8, any::<bool>()).prop_map(
            |(uow, amount, at, by_amount, order, descending)| Step::QuerySpecimens {
                uow,
                amount,
                at,
                by_amount,
                order,
                descending,
            }
        ),
        3 => (uow(), 1..=SPECIMENS, decimal(), day(), alarm(), at()).prop_map(
            |(uow, specimen, amount, day, alarm, at)| Step::Stamp {
                uow,
                specimen,
                amount,
                day,
                alarm,
                at,
            }
        ),
    ]
}

/// Decimals of mixed scale and precision: small and large mantissas at any
/// scale (0 to 28, trailing zeros kept), zeros with a scale, the extremes.
fn decimal() -> impl Strategy<Value = rust_decimal::Decimal> {
    use rust_decimal::Decimal;
    prop_oneof![
        4 => (-10_000i64..10_000, 0u32..=4).prop_map(|(m, s)| Decimal::new(m, s)),
        3 => (any::<i64>(), 0u32..=28).prop_map(|(m, s)| Decimal::new(m, s)),
        2 => (any::<i128>(), 0u32..=28).prop_map(|(m, s)| {
            Decimal::try_from_i128_with_scale(m % 79_228_162_514_264_337_593_543_950_335, s)
                .unwrap_or(Decimal::ZERO)
        }),
        1 => (0u32..=28).prop_map(|s| Decimal::new(0, s)),
        1 => prop::sample::select(vec![Decimal::MAX, Decimal::MIN, Decimal::new(1, 28)]),
    ]
}

/// Dates at the edges of the years 1 to 9999, anywhere between, and just
/// beyond (refused by every store).
fn day() -> impl Strategy<Value = chrono::NaiveDate> {
    use chrono::NaiveDate;
    let ymd = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("a date");
    prop_oneof![
        3 => prop::sample::select(vec![
            ymd(1, 1, 1),
            ymd(9999, 12, 31),
            ymd(1970, 1, 1),
            ymd(1969, 12, 31),
            ymd(2000, 2, 29),
            ymd(1900, 3, 1),
        ]),
        3 => (uow_core::backend::FIRST_DAY..=uow_core::backend::LAST_DAY).prop_map(move |d| {
            ymd(1970, 1, 1) + chrono::TimeDelta::days(i64::from(d))
        }),
        1 => prop::sample::select(vec![ymd(0, 12, 31), ymd(10_000, 1, 1)]),
    ]
}

/// Times of day: midnight, the last microsecond, any microsecond, and a
/// leap second (refused by every store).
fn alarm() -> impl Strategy<Value = chrono::NaiveTime> {
    use chrono::NaiveTime;
    let micro =
        |s, us| NaiveTime::from_num_seconds_from_midnight_opt(s, us * 1_000).expect("a time");
    prop_oneof![
        2 => prop::sample::select(vec![micro(0, 0), micro(86_399, 999_999)]),
        4 => (0u32..86_400, 0u32..1_000_000).prop_map(move |(s, us)| micro(s, us)),
        1 => Just(NaiveTime::from_hms_nano_opt(23, 59, 59, 1_500_000_000).expect("a leap second")),
    ]
}

/// Timestamps: the first and last stored microsecond, any between.
fn at() -> impl Strategy<Value = chrono::DateTime<chrono::Utc>> {
    (uow_core::backend::FIRST_MICRO..=uow_core::backend::LAST_MICRO)
        .prop_map(|t| chrono::DateTime::from_timestamp_micros(t).expect("in range"))
        .boxed()
        .prop_union(
            prop::sample::select(vec![
                uow_core::backend::FIRST_MICRO,
                0,
                uow_core::backend::LAST_MICRO,
            ])
            .prop_map(|t| chrono::DateTime::from_timestamp_micros(t).expect("in range"))
            .boxed(),
        )
}

/// A generated program: the accounts stored before it starts (the first
/// three ids, each opened and committed in a unit of work of its own, so
/// most steps meet stored state), then the steps.
#[derive(Clone, Debug)]
struct Program {
    seed: Vec<Option<(&'static str, Option<&'static str>)>>,
    steps: Vec<Step>,
}

impl Program {
    /// The seed as steps, then the steps: what is run.
    fn expanded(&self) -> Vec<Step> {
        let mut steps = Vec::with_capacity(self.seed.len() * 2 + self.steps.len());
        for (id, seed) in ACCOUNTS.iter().zip(&self.seed) {
            if let Some((branch, email)) = *seed {
                steps.push(Step::Open {
                    uow: 0,
                    id,
                    branch,
                    email,
                });
                steps.push(Step::Commit { uow: 0 });
            }
        }
        steps.extend(self.steps.iter().cloned());
        steps
    }
}

fn program() -> impl Strategy<Value = Program> {
    let seeded = (prop::sample::select(BRANCHES), prop::sample::select(EMAILS));
    (
        prop::collection::vec(prop::option::weighted(0.8, seeded), 3),
        prop::collection::vec(step(), 1..40),
    )
        .prop_map(|(seed, steps)| Program { seed, steps })
}

/// What a step did, as every backend must report it alike.
#[derive(Clone, Debug, PartialEq)]
enum Outcome {
    Began,
    /// The step's slot had no unit of work to commit or drop.
    Idle,
    Found(Option<Account>),
    Accounts(Vec<Account>),
    /// The pages of a query, in order.
    Pages(Vec<Vec<Account>>),
    Count(u64),
    /// Specimens a query found, by their `Debug` text.
    Specimens(Vec<String>),
    Entries(Vec<LedgerEntry>),
    /// A staged `add` or `remove`.
    Staged,
    Committed(Vec<BankEvent>),
    /// A specimen after the step, by its `Debug` text (a decimal's scale
    /// counts).
    Specimen(Option<String>),
    Dropped,
    Retried {
        attempts: u32,
        rival: Option<Box<Outcome>>,
        result: Box<Outcome>,
    },
    Failed(Failure),
}

/// An error, normalized: what a caller can match on, not driver text.
#[derive(Clone, Debug, PartialEq)]
enum Failure {
    Conflict {
        aggregate: &'static str,
        id: String,
        expected: u64,
    },
    NotFound {
        aggregate: &'static str,
        id: String,
    },
    Duplicate {
        aggregate: &'static str,
        id: String,
        column: String,
    },
    IdChanged {
        aggregate: &'static str,
        id: String,
    },
    Decode {
        table: &'static str,
        column: &'static str,
        id: String,
    },
    Encode {
        aggregate: &'static str,
        field: &'static str,
        id: String,
    },
    /// Anything else (a backend or schema error): the in-memory store never
    /// reports one, so the message is kept to show what went wrong.
    Other(String),
}

fn failed(error: Error) -> Outcome {
    Outcome::Failed(match error {
        Error::Conflict {
            aggregate,
            id,
            expected,
        } => Failure::Conflict {
            aggregate,
            id,
            expected,
        },
        Error::NotFound { aggregate, id } => Failure::NotFound { aggregate, id },
        Error::Duplicate {
            aggregate,
            id,
            column,
        } => Failure::Duplicate {
            aggregate,
            id,
            column,
        },
        Error::IdChanged { aggregate, id } => Failure::IdChanged { aggregate, id },
        Error::Decode {
            table, column, id, ..
        } => Failure::Decode { table, column, id },
        Error::Encode {
            aggregate,
            field,
            id,
            ..
        } => Failure::Encode {
            aggregate,
            field,
            id,
        },
        other => Failure::Other(other.to_string()),
    })
}

/// Everything a program showed: each step's outcome and what was stored at
/// the end.
#[derive(Debug, PartialEq)]
struct Trace {
    outcomes: Vec<Outcome>,
    accounts: Result<Vec<Account>, Failure>,
    entries: Result<Vec<LedgerEntry>, Failure>,
    specimens: Result<Vec<String>, Failure>,
}

/// Runs `program` on `store` and records what it showed.
async fn run<S: Store>(store: &S, program: &[Step]) -> Trace {
    let mut slots: [Option<Bank<S>>; SLOTS] = std::array::from_fn(|_| None);
    let mut outcomes = Vec::with_capacity(program.len());
    for step in program {
        outcomes.push(execute(store, &mut slots, step).await);
    }
    drop(slots);

    let read = async {
        let mut uow = Bank::begin(store).await?;
        let accounts: Vec<Account> = uow
            .accounts
            .list(100)
            .await?
            .into_iter()
            .map(|a| a.clone())
            .collect();
        let entries: Vec<LedgerEntry> = uow
            .entries
            .list(100)
            .await?
            .into_iter()
            .map(|e| e.clone())
            .collect();
        let specimens: Vec<String> = uow
            .specimens
            .list(100)
            .await?
            .into_iter()
            .map(|s| format!("{s:?}"))
            .collect();
        Ok::<_, Error>((accounts, entries, specimens))
    };
    let (accounts, entries, specimens) = match read.await {
        Ok((accounts, entries, specimens)) => (Ok(accounts), Ok(entries), Ok(specimens)),
        Err(e) => {
            let Outcome::Failed(failure) = failed(e) else {
                unreachable!()
            };
            (Err(failure.clone()), Err(failure.clone()), Err(failure))
        }
    };
    Trace {
        outcomes,
        accounts,
        entries,
        specimens,
    }
}

/// The unit of work in slot `i`, begun if none is open.
async fn open<'a, S: Store>(
    store: &S,
    slots: &'a mut [Option<Bank<S>>; SLOTS],
    i: usize,
) -> Result<&'a mut Bank<S>, Error> {
    if slots[i].is_none() {
        slots[i] = Some(Bank::begin(store).await?);
    }
    Ok(slots[i].as_mut().expect("begun above"))
}

/// Loads an account in `uow` and applies `change` to it if it is stored.
async fn change<S: Store>(
    uow: &mut Bank<S>,
    id: &str,
    change: impl FnOnce(&mut Account),
) -> Outcome {
    match uow.accounts.get(&AccountId::new(id)).await {
        Ok(Some(account)) => {
            change(account);
            Outcome::Found(Some(account.clone()))
        }
        Ok(None) => Outcome::Found(None),
        Err(e) => failed(e),
    }
}

fn committed(result: Result<Vec<BankEvent>, Error>) -> Outcome {
    match result {
        Ok(events) => Outcome::Committed(events),
        Err(e) => failed(e),
    }
}

async fn execute<S: Store>(
    store: &S,
    slots: &mut [Option<Bank<S>>; SLOTS],
    step: &Step,
) -> Outcome {
    macro_rules! uow {
        ($i:expr) => {
            match open(store, slots, $i).await {
                Ok(uow) => uow,
                Err(e) => return failed(e),
            }
        };
    }
    match *step {
        Step::Begin { uow } => {
            uow!(uow);
            Outcome::Began
        }
        Step::Get { uow, id } => change(uow!(uow), id, |_| {}).await,
        Step::FindByBranch { uow, branch } => {
            match uow!(uow).accounts.find_by_branch(branch).await {
                Ok(found) => Outcome::Accounts(found.into_iter().map(|a| a.clone()).collect()),
                Err(e) => failed(e),
            }
        }
        Step::GetByEmail { uow, email } => match uow!(uow).accounts.get_by_email(email).await {
            Ok(found) => Outcome::Found(found.cloned()),
            Err(e) => failed(e),
        },
        Step::List { uow, limit } => match uow!(uow).accounts.list(limit).await {
            Ok(found) => Outcome::Accounts(found.into_iter().map(|a| a.clone()).collect()),
            Err(e) => failed(e),
        },
        Step::Deposit { uow, id, amount } => change(uow!(uow), id, |a| a.deposit(amount)).await,
        Step::Rename { uow, id, owner } => {
            change(uow!(uow), id, |a| a.owner = owner.to_owned()).await
        }
        Step::Move { uow, id, branch } => {
            change(uow!(uow), id, |a| a.branch = branch.to_owned()).await
        }
        Step::SetEmail { uow, id, email } => {
            change(uow!(uow), id, |a| a.email = email.map(str::to_owned)).await
        }
        Step::Open {
            uow,
            id,
            branch,
            email,
        } => {
            let mut account = Account::open(id, "Ada", branch);
            account.email = email.map(str::to_owned);
            match uow!(uow).accounts.add(account) {
                Ok(()) => Outcome::Staged,
                Err(e) => failed(e),
            }
        }
        Step::Close { uow, id } => match uow!(uow).accounts.remove(&AccountId::new(id)).await {
            Ok(()) => Outcome::Staged,
            Err(e) => failed(e),
        },
        Step::Post {
            uow,
            entry,
            account,
        } => {
            let entry = LedgerEntry {
                id: entry,
                version: 0,
                account: account.to_owned(),
                amount: entry * 10,
            };
            match uow!(uow).entries.add(entry) {
                Ok(()) => Outcome::Staged,
                Err(e) => failed(e),
            }
        }
        Step::Void { uow, entry } => match uow!(uow).entries.remove(&entry).await {
            Ok(()) => Outcome::Staged,
            Err(e) => failed(e),
        },
        Step::Entries { uow, account } => match uow!(uow).entries.find_by_account(account).await {
            Ok(found) => Outcome::Entries(found.into_iter().map(|e| e.clone()).collect()),
            Err(e) => failed(e),
        },
        Step::Stamp {
            uow,
            specimen,
            amount,
            day,
            alarm,
            at,
        } => {
            let unit = uow!(uow);
            let id = uuid::Uuid::from_u128(specimen);
            let set = |s: &mut Specimen| {
                s.amount = amount;
                s.maybe_amount = Some(amount);
                s.birthday = day;
                s.alarm = alarm;
                s.created_at = at;
                s.local_time = at.naive_utc();
            };
            match unit.specimens.get(&id).await {
                Ok(Some(stored)) => {
                    set(stored);
                    Outcome::Specimen(Some(format!("{stored:?}")))
                }
                Ok(None) => {
                    let mut new = Specimen::sample(specimen);
                    set(&mut new);
                    let shown = format!("{new:?}");
                    match unit.specimens.add(new) {
                        Ok(()) => Outcome::Specimen(Some(shown)),
                        Err(e) => failed(e),
                    }
                }
                Err(e) => failed(e),
            }
        }
        Step::QueryAccounts {
            uow,
            filter,
            order,
            descending,
            then_owner,
            size,
        } => {
            let unit = uow!(uow);
            let mut pages = Vec::new();
            let mut cursor = None;
            loop {
                let mut query = account_query(&mut unit.accounts, filter).order_by(|a| {
                    let term = match order {
                        AccountOrder::Balance => (a.balance.asc(), a.balance.desc()),
                        AccountOrder::Branch => (a.branch.asc(), a.branch.desc()),
                        AccountOrder::Email => (a.email.asc(), a.email.desc()),
                        AccountOrder::Owner => (a.owner.asc(), a.owner.desc()),
                    };
                    if descending { term.1 } else { term.0 }
                });
                if then_owner {
                    query = query.order_by(|a| a.owner.asc());
                }
                match query.page(size, cursor.as_ref()).await {
                    Ok(page) => {
                        pages.push(page.items.into_iter().map(|a| a.clone()).collect());
                        match page.next {
                            Some(next) => cursor = Some(next),
                            None => break Outcome::Pages(pages),
                        }
                    }
                    Err(e) => break failed(e),
                }
            }
        }
        Step::CountAccounts { uow, filter } => {
            match account_query(&mut uow!(uow).accounts, filter).count().await {
                Ok(n) => Outcome::Count(n),
                Err(e) => failed(e),
            }
        }
        Step::QuerySpecimens {
            uow,
            amount,
            at,
            by_amount,
            order,
            descending,
        } => {
            let query = uow!(uow).specimens.query();
            let query = if by_amount {
                query.filter(|s| s.amount.ge(amount).or(s.maybe_amount.lt(amount)))
            } else {
                query.filter(|s| s.created_at.lt(at))
            };
            let query = query.order_by(|s| {
                let term = match order {
                    0 => (s.amount.asc(), s.amount.desc()),
                    1 => (s.birthday.asc(), s.birthday.desc()),
                    2 => (s.alarm.asc(), s.alarm.desc()),
                    _ => (s.local_time.asc(), s.local_time.desc()),
                };
                if descending { term.1 } else { term.0 }
            });
            match query.all().await {
                Ok(found) => Outcome::Specimens(found.iter().map(|s| format!("{s:?}")).collect()),
                Err(e) => failed(e),
            }
        }
        Step::Commit { uow } => match slots[uow].take() {
            Some(unit) => committed(unit.commit().await),
            None => Outcome::Idle,
        },
        Step::Drop { uow } => match slots[uow].take() {
            Some(unit) => {
                drop(unit);
                Outcome::Dropped
            }
            None => Outcome::Idle,
        },
        Step::Retry { id, amount, rival } => {
            let rival_uow = RefCell::new(slots[rival].take());
            let rival_outcome = RefCell::new(None);
            let attempts = Cell::new(0);
            let result = retry(3, || async {
                attempts.set(attempts.get() + 1);
                let mut uow = Bank::begin(store).await?;
                uow.accounts
                    .get(&AccountId::new(id))
                    .await?
                    .ok_or_else(|| Error::NotFound {
                        aggregate: "Account",
                        id: id.to_owned(),
                    })?
                    .deposit(amount);
                let rival = rival_uow.borrow_mut().take();
                if let Some(rival) = rival {
                    let outcome = committed(rival.commit().await);
                    *rival_outcome.borrow_mut() = Some(Box::new(outcome));
                }
                uow.commit().await
            })
            .await;
            Outcome::Retried {
                attempts: attempts.get(),
                rival: rival_outcome.into_inner(),
                result: Box::new(committed(result)),
            }
        }
    }
}

/// The accounts query of `filter`.
fn account_query<S: Store>(
    accounts: &mut uow_core::Repository<Account, S>,
    filter: AccountFilter,
) -> uow_core::query::QueryBuilder<'_, Account, S> {
    let query = accounts.query();
    match filter {
        AccountFilter::Every => query,
        AccountFilter::BalanceAtLeast(n) => query.filter(|a| a.balance.ge(n)),
        AccountFilter::BranchAfter(b) => query.filter(|a| a.branch.gt(b)),
        AccountFilter::BranchIn(x, y) => query.filter(|a| a.branch.is_in([x, y])),
        AccountFilter::EmailIsNull => query.filter(|a| a.email.is_null()),
        AccountFilter::EmailAfter(e) => query.filter(|a| a.email.gt(e)),
        AccountFilter::OwnerIs(o) => query.filter(|a| a.owner.eq(o)),
        AccountFilter::NicknameIsNotNull => query.filter(|a| a.nickname.is_not_null()),
    }
}

/// The program, one numbered step per line.
fn listing(program: &[Step]) -> String {
    let mut out = String::new();
    for (i, step) in program.iter().enumerate() {
        let _ = writeln!(out, "  {i:>2}: {step:?}");
    }
    out
}

/// `Ok` when the two traces agree; otherwise says at which step, or in
/// which table, they part.
fn agree(program: &[Step], expected: &Trace, actual: &Trace, backend: &str) -> Result<(), String> {
    for (i, (want, got)) in expected.outcomes.iter().zip(&actual.outcomes).enumerate() {
        if want != got {
            return Err(format!(
                "step {i} {:?}:\n  in_memory: {want:?}\n  {backend}: {got:?}",
                program[i]
            ));
        }
    }
    if expected.accounts != actual.accounts {
        return Err(format!(
            "stored accounts at the end:\n  in_memory: {:?}\n  {backend}: {:?}",
            expected.accounts, actual.accounts
        ));
    }
    if expected.entries != actual.entries {
        return Err(format!(
            "stored ledger entries at the end:\n  in_memory: {:?}\n  {backend}: {:?}",
            expected.entries, actual.entries
        ));
    }
    if expected.specimens != actual.specimens {
        return Err(format!(
            "stored specimens at the end:\n  in_memory: {:?}\n  {backend}: {:?}",
            expected.specimens, actual.specimens
        ));
    }
    Ok(())
}

/// Runs `program` on a fresh in-memory store and on `store` (emptied first)
/// and compares.
async fn compare(store: &SqlxStore, backend: &str, program: &Program) -> Result<Trace, String> {
    let program = program.expanded();
    raw_sql::clear(store, &["ledger_entries", "accounts", "specimens"]).await;
    let expected = run(&InMemoryStore::new(), &program).await;
    let actual = run(store, &program).await;
    agree(&program, &expected, &actual, backend)?;
    Ok(expected)
}

/// How many programs each backend pair runs.
fn cases() -> u32 {
    match std::env::var("UOW_DIFFERENTIAL_CASES") {
        Ok(n) => n
            .parse()
            .unwrap_or_else(|_| panic!("UOW_DIFFERENTIAL_CASES={n} is not a number")),
        Err(_) => 1_000,
    }
}

/// What the programs of a run exercised, to show they are not trivial.
#[derive(Default)]
struct Tally {
    programs: u64,
    steps: u64,
    commits: u64,
    events: u64,
    conflicts: u64,
    duplicates: u64,
    not_found: u64,
    reruns: u64,
    stamps: u64,
    refused: u64,
    queries: u64,
    rows_queried: u64,
}

impl Tally {
    fn count(&mut self, trace: &Trace) {
        self.programs += 1;
        self.steps += trace.outcomes.len() as u64;
        for outcome in &trace.outcomes {
            self.outcome(outcome);
        }
    }

    fn outcome(&mut self, outcome: &Outcome) {
        match outcome {
            Outcome::Committed(events) => {
                self.commits += 1;
                self.events += events.len() as u64;
            }
            Outcome::Failed(Failure::Conflict { .. }) => self.conflicts += 1,
            Outcome::Failed(Failure::Duplicate { .. }) => self.duplicates += 1,
            Outcome::Failed(Failure::NotFound { .. }) => self.not_found += 1,
            Outcome::Specimen(_) => self.stamps += 1,
            Outcome::Pages(pages) => {
                self.queries += 1;
                self.rows_queried += pages.iter().map(|p| p.len() as u64).sum::<u64>();
            }
            Outcome::Specimens(found) => {
                self.queries += 1;
                self.rows_queried += found.len() as u64;
            }
            Outcome::Count(_) => self.queries += 1,
            Outcome::Failed(Failure::Encode { .. }) => self.refused += 1,
            Outcome::Retried {
                attempts,
                rival,
                result,
            } => {
                self.reruns += u64::from(attempts.saturating_sub(1));
                if let Some(rival) = rival {
                    self.outcome(rival);
                }
                self.outcome(result);
            }
            _ => {}
        }
    }
}

/// The in-memory store against backend `B`, `cases()` programs.
fn in_memory_against<B: Backend<Store = SqlxStore>>() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let Some(store) = runtime.block_on(B::fresh_with(TABLES)) else {
        return;
    };
    let config = Config {
        cases: cases(),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/proptest-regressions/differential.txt"
        )))),
        ..Config::default()
    };
    let started = Instant::now();
    let tally = RefCell::new(Tally::default());
    let mut runner = TestRunner::new(config);
    let outcome = runner.run(&program(), |program| {
        let trace = runtime
            .block_on(compare(&store, B::NAME, &program))
            .map_err(TestCaseError::fail)?;
        tally.borrow_mut().count(&trace);
        Ok(())
    });
    match outcome {
        Ok(()) => {
            let t = tally.into_inner();
            uow_tests::report(&format!(
                "differential in_memory vs {}: {} programs agreed ({} steps, {} commits returning {} events, {} conflicts, {} duplicates, {} not found, {} retry re-runs, {} specimens written with edge values, {} commits refused for a value no store holds, {} queries returning {} rows) in {:.1} s",
                B::NAME,
                t.programs,
                t.steps,
                t.commits,
                t.events,
                t.conflicts,
                t.duplicates,
                t.not_found,
                t.reruns,
                t.stamps,
                t.refused,
                t.queries,
                t.rows_queried,
                started.elapsed().as_secs_f64()
            ));
        }
        Err(TestError::Fail(reason, program)) => panic!(
            "the in-memory store and {} disagree: {reason}\nminimal program:\n{}",
            B::NAME,
            listing(&program.expanded())
        ),
        Err(TestError::Abort(reason)) => panic!("proptest aborted: {reason}"),
    }
}

#[test]
fn in_memory_vs_sqlite() {
    in_memory_against::<Sqlite>();
}

#[test]
fn in_memory_vs_postgres() {
    in_memory_against::<Postgres>();
}

#[test]
fn in_memory_vs_mysql() {
    in_memory_against::<MySql>();
}

/// Programs that once made the in-memory store and a database disagree,
/// kept as they were shrunk, on every database.
mod regressions {
    use super::*;

    /// Runs `steps` on a fresh in-memory store and a fresh store of `B`.
    async fn agree_on<B: Backend>(steps: Vec<Step>) {
        let Some(store) = B::fresh().await else {
            return;
        };
        let expected = run(&InMemoryStore::new(), &steps).await;
        let actual = run(&store, &steps).await;
        if let Err(difference) = agree(&steps, &expected, &actual, B::NAME) {
            panic!("{difference}\nprogram:\n{}", listing(&steps));
        }
    }

    /// SQLite reported the taken `unique` email, the others the taken id
    /// (fixed in uow-sqlx's SQLite DDL: constraints declared in the order
    /// SQLite checks them).
    pub async fn adding_a_taken_id_with_a_taken_unique_value_is_a_duplicate_id<B: Backend>() {
        let open = Step::Open {
            uow: 0,
            id: "a1",
            branch: "north",
            email: Some("y@bank"),
        };
        agree_on::<B>(vec![
            open.clone(),
            Step::Commit { uow: 0 },
            open,
            Step::Commit { uow: 0 },
        ])
        .await;
    }

    /// Found with the fake's version check removed: an update of an account
    /// that another unit of work removed must conflict, not resurrect it.
    pub async fn changing_an_account_another_unit_removed_is_a_conflict<B: Backend>() {
        agree_on::<B>(vec![
            Step::Open {
                uow: 0,
                id: "a2",
                branch: "north",
                email: None,
            },
            Step::Commit { uow: 0 },
            Step::Close { uow: 0, id: "a2" },
            Step::Rename {
                uow: 1,
                id: "a2",
                owner: "Bob",
            },
            Step::Commit { uow: 0 },
            Step::Commit { uow: 1 },
        ])
        .await;
    }

    /// Found with the fake's version check removed: of two units of work
    /// that change one account, the second to commit conflicts.
    pub async fn the_second_of_two_changes_to_one_account_conflicts<B: Backend>() {
        agree_on::<B>(vec![
            Step::Open {
                uow: 0,
                id: "a0",
                branch: "north",
                email: Some("x@bank"),
            },
            Step::Commit { uow: 0 },
            Step::SetEmail {
                uow: 1,
                id: "a0",
                email: None,
            },
            Step::SetEmail {
                uow: 2,
                id: "a0",
                email: None,
            },
            Step::Commit { uow: 2 },
            Step::Commit { uow: 1 },
        ])
        .await;
    }

    /// Three updates in one commit are written as one batch: the batch
    /// checked every version before writing and reported the stale `a2`,
    /// where rows written one by one and the in-memory store report the
    /// taken email of `a1`, the first failure in id order (fixed in
    /// uow-sqlx's flush).
    pub async fn a_batch_reports_its_first_failure_in_id_order<B: Backend>() {
        let mut steps = Vec::new();
        for (id, email) in [("a0", Some("x@bank")), ("a1", None), ("a2", None)] {
            steps.push(Step::Open {
                uow: 0,
                id,
                branch: "north",
                email,
            });
            steps.push(Step::Commit { uow: 0 });
        }
        steps.extend([
            Step::Deposit {
                uow: 0,
                id: "a0",
                amount: 1,
            },
            Step::Deposit {
                uow: 0,
                id: "a2",
                amount: 1,
            },
            Step::SetEmail {
                uow: 0,
                id: "a1",
                email: Some("x@bank"),
            },
            Step::Retry {
                id: "a2",
                amount: 1,
                rival: 1,
            },
            Step::Commit { uow: 0 },
        ]);
        agree_on::<B>(steps).await;
    }

    /// A member with two `unique` columns.
    #[derive(uow_core::Aggregate, Clone, Debug, PartialEq)]
    #[aggregate(table = "members")]
    pub struct Member {
        #[aggregate(id)]
        pub id: i64,
        #[aggregate(version)]
        pub version: u64,
        #[aggregate(unique)]
        pub email: String,
        #[aggregate(unique)]
        pub handle: String,
    }

    #[uow_core::unit_of_work]
    pub struct Club {
        pub members: Member,
    }

    fn member(id: i64, email: &str, handle: &str) -> Member {
        Member {
            id,
            version: 0,
            email: email.to_owned(),
            handle: handle.to_owned(),
        }
    }

    async fn add<S: Store>(store: &S, member: Member) -> Result<(), Error> {
        let mut uow = Club::begin(store).await?;
        uow.members.add(member)?;
        uow.commit().await.map(drop)
    }

    fn taken_column(outcome: Result<(), Error>) -> String {
        match outcome {
            Err(Error::Duplicate { column, .. }) => column,
            other => panic!("expected a duplicate, got {other:?}"),
        }
    }

    /// The in-memory store looked for taken `unique` values in hash order, so
    /// which of two taken columns it named changed from run to run; the
    /// databases name the first (fixed in uow-core's in-memory store).
    pub async fn of_two_taken_unique_values_the_first_column_is_reported<B: Backend>() {
        const TABLES: &[&uow_core::backend::AggregateMeta] =
            &[<Member as uow_core::Aggregate>::META];
        let Some(store) = B::fresh_with(TABLES).await else {
            return;
        };
        add(&store, member(1, "ada@club", "ada"))
            .await
            .expect("add");
        for _ in 0..8 {
            assert_eq!(
                taken_column(add(&store, member(2, "ada@club", "ada")).await),
                "email"
            );
            assert_eq!(
                taken_column(add(&store, member(1, "ada@club", "ada")).await),
                "id"
            );
            assert_eq!(
                taken_column(add(&store, member(3, "bob@club", "ada")).await),
                "handle"
            );
        }
    }
}

uow_tests::on_backends!([sqlite, postgres, mysql] regressions: [
    adding_a_taken_id_with_a_taken_unique_value_is_a_duplicate_id,
    changing_an_account_another_unit_removed_is_a_conflict,
    the_second_of_two_changes_to_one_account_conflicts,
    a_batch_reports_its_first_failure_in_id_order,
]);

mod unique_order {
    use super::regressions;
    uow_tests::on_backends!([in_memory, sqlite, postgres, mysql] regressions: [
        of_two_taken_unique_values_the_first_column_is_reported,
    ]);
}
