//! Value fidelity: what the database holds is exactly what the domain wrote.
//!
//! One list of cases per value class — decimals, dates, times, timestamps,
//! JSON, text and keys, integers, floats, UUIDs — run on every backend
//! (`in_memory`, `sqlite`, `postgres`, `mysql`; every test name contains
//! `fidelity`). Each case either round-trips exactly (compared by `Debug`
//! text, so a decimal's scale and a float's bits count) through `get` and
//! the finder, or its commit is refused with [`Error::Encode`] naming the
//! aggregate and the field, storing nothing. Every case is run on the
//! in-memory store too, in the same test, and must have the same outcome
//! there: the fake refuses what a backend cannot hold.

use std::any::Any;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uow_core::{
    Aggregate, Error, InMemoryStore, Store,
    outbox::{OutboxClaim, OutboxStore},
    unit_of_work,
};
use uow_sqlx::SqlxStore;
use uow_tests::backends::Backend;

/// One field of every value class; `label` is a finder key, `code` a
/// unique key.
#[derive(Aggregate, Clone, Debug, PartialEq)]
#[aggregate(table = "fidelity_records")]
pub struct Record {
    #[aggregate(id)]
    pub id: String,
    #[aggregate(version)]
    pub version: u64,
    #[aggregate(find_by)]
    pub label: String,
    #[aggregate(unique)]
    pub code: String,
    pub text: String,
    pub amount: Decimal,
    pub maybe_amount: Option<Decimal>,
    pub day: NaiveDate,
    pub clock: NaiveTime,
    pub at: DateTime<Utc>,
    pub local: NaiveDateTime,
    #[aggregate(json)]
    pub doc: serde_json::Value,
    pub count: u64,
    pub double: f64,
    pub single: f32,
    pub uuid: uuid::Uuid,
    #[aggregate(events)]
    pub events: Vec<Paid>,
}

/// An event carrying a decimal, for the outbox payload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Paid {
    Paid { amount: Decimal },
}

/// Decimals as ids: `list` returns them in id order on every backend.
#[derive(Aggregate, Clone, Debug, PartialEq)]
#[aggregate(table = "fidelity_prices")]
pub struct Price {
    #[aggregate(id)]
    pub amount: Decimal,
    #[aggregate(version)]
    pub version: u64,
}

/// Decimals with a declared precision and scale: `DECIMAL(P, S)` /
/// `NUMERIC(P, S)` columns, values at scale `S` on every store.
#[derive(Aggregate, Clone, Debug, PartialEq)]
#[aggregate(table = "fidelity_invoices")]
pub struct Invoice {
    #[aggregate(id)]
    pub id: String,
    #[aggregate(version)]
    pub version: u64,
    #[aggregate(decimal(precision = 19, scale = 4))]
    pub total: Decimal,
    #[aggregate(find_by, decimal(precision = 5, scale = 2))]
    pub rate: Option<Decimal>,
}

#[unit_of_work]
pub struct Invoices {
    pub invoices: Invoice,
}

/// Every value class but JSON: a SQL store keeps the row it read as the
/// snapshot of such an aggregate (no re-encoding), so a value the database
/// hands back in another form than the domain wrote would make an
/// unchanged aggregate look changed.
#[derive(Aggregate, Clone, Debug, PartialEq)]
#[aggregate(table = "fidelity_ledgers")]
pub struct Ledger {
    #[aggregate(id)]
    pub id: uuid::Uuid,
    #[aggregate(version)]
    pub version: u64,
    #[aggregate(find_by)]
    pub name: String,
    pub note: Option<String>,
    pub amount: Decimal,
    #[aggregate(decimal(precision = 19, scale = 4))]
    pub fixed: Decimal,
    pub day: NaiveDate,
    pub clock: NaiveTime,
    pub at: DateTime<Utc>,
    pub local: NaiveDateTime,
    pub count: u64,
    pub small: i16,
    pub double: f64,
    pub single: f32,
    pub flag: bool,
    pub bytes: Vec<u8>,
}

#[unit_of_work]
pub struct Ledgers {
    pub ledgers: Ledger,
}

#[unit_of_work(events = Paid, outbox)]
pub struct Records {
    pub records: Record,
    pub prices: Price,
}

const TABLES: &[&uow_core::backend::AggregateMeta] = &[Record::META, Price::META];

fn dec(text: &str) -> Decimal {
    text.parse().expect("a decimal")
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a date")
}

fn record(id: &str) -> Record {
    Record {
        id: id.to_owned(),
        version: 0,
        label: id.to_owned(),
        code: id.to_owned(),
        text: id.to_owned(),
        amount: dec("1.00"),
        maybe_amount: None,
        day: date(2024, 2, 29),
        clock: NaiveTime::from_hms_micro_opt(12, 30, 0, 123_456).expect("a time"),
        at: date(2024, 2, 29)
            .and_hms_micro_opt(23, 59, 59, 999_999)
            .expect("a timestamp")
            .and_utc(),
        local: date(1969, 7, 20)
            .and_hms_micro_opt(20, 17, 40, 1)
            .expect("a timestamp"),
        doc: serde_json::json!({"k": [1, "two", null, 3.5]}),
        count: 0,
        double: 0.5,
        single: 0.25,
        uuid: uuid::Uuid::nil(),
        events: Vec::new(),
    }
}

/// What a case expects.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Expect {
    /// Round-trips exactly.
    Exact,
    /// Refused at commit with `Error::Encode` naming this field.
    Refused(&'static str),
}

/// The exact form compared after a reload: every field's `Debug` text.
fn exact(record: &Record) -> String {
    let mut record = record.clone();
    record.version = 0;
    record.events.clear();
    format!("{record:?}")
}

/// Adds `record` and reads it back by id and through the finder: exact, or
/// refused with a typed error naming the aggregate and field and nothing
/// stored. The outcome, as `Expect`.
async fn outcome<S: Store>(store: &S, record: &Record) -> Expect {
    let mut uow = Records::begin(store).await.expect("begin");
    uow.records.add(record.clone()).expect("add");
    let label = format!("{:.60?}", record.id);
    match uow.commit().await {
        Ok(_) => {
            let mut uow = Records::begin(store).await.expect("begin");
            let loaded = uow
                .records
                .get(&record.id)
                .await
                .unwrap_or_else(|e| panic!("{label}: get: {e:.300}"))
                .unwrap_or_else(|| panic!("{label}: stored, but not found by id"))
                .clone();
            assert_eq!(exact(&loaded), exact(record), "{label}: changed on the way");
            let found: Vec<String> = uow
                .records
                .find_by_label(&record.label)
                .await
                .unwrap_or_else(|e| panic!("{label}: find_by_label: {e:.300}"))
                .into_iter()
                .map(|r| r.id.clone())
                .collect();
            assert_eq!(
                found,
                std::slice::from_ref(&record.id),
                "{label}: the finder"
            );
            // Committed unchanged, it is not written again: what the store
            // read back is the snapshot the dirty check compares with.
            uow.commit()
                .await
                .unwrap_or_else(|e| panic!("{label}: commit of an unchanged unit: {e:.300}"));
            let mut uow = Records::begin(store).await.expect("begin");
            let again = uow.records.get(&record.id).await.expect("get");
            assert_eq!(
                again.map(|r| r.version),
                Some(loaded.version),
                "{label}: loaded and committed unchanged, yet written again"
            );
            Expect::Exact
        }
        Err(Error::Encode {
            aggregate, field, ..
        }) => {
            assert_eq!(aggregate, "Record");
            let mut uow = Records::begin(store).await.expect("begin");
            let stored = uow.records.get(&record.id).await.expect("get");
            assert!(stored.is_none(), "{label}: refused, yet stored");
            Expect::Refused(field)
        }
        Err(other) => panic!("{label}: neither stored nor refused with a typed error: {other}"),
    }
}

/// Runs each case on the backend and on a fresh in-memory store: both must
/// give the expected outcome. Ids are the case names.
async fn run_cases<B: Backend>(cases: Vec<(&str, Record, Expect)>) {
    let Some(store) = B::fresh_with(TABLES).await else {
        return;
    };
    let fake = InMemoryStore::new();
    let mut exact = 0;
    for (name, mut case, expected) in cases {
        case.id = name.to_owned();
        case.code = name.to_owned();
        if case.label == "case" {
            case.label = name.to_owned();
        }
        assert_eq!(
            outcome(&store, &case).await,
            expected,
            "{}: {name}",
            B::NAME
        );
        assert_eq!(
            outcome(&fake, &case).await,
            expected,
            "in-memory store: {name}"
        );
        exact += usize::from(expected == Expect::Exact);
    }
    uow_tests::report(&format!("  {}: {exact} exact", B::NAME));
}

/// A case: `record` changed by `change`, with its expected outcome.
fn case(name: &str, expected: Expect, change: impl FnOnce(&mut Record)) -> (&str, Record, Expect) {
    let mut r = record(name);
    r.label = "case".to_owned();
    change(&mut r);
    (name, r, expected)
}

mod scenarios {
    use super::*;
    use Expect::{Exact, Refused};

    /// The decimals of the issue, and more scales: exact with value and
    /// scale on every backend.
    pub async fn fidelity_decimals_keep_value_and_scale<B: Backend>() {
        let decimals = [
            "1234.50",
            "0.00",
            "0",
            "1.087654321098",
            "0.0000000000000000000000000001",
            "-0.0000000000000000000000000001",
            "-1.50",
            "100",
            "7922816251426433759354395033.5",
            "0.1000000000000000000000000000",
        ];
        let mut cases: Vec<_> = decimals
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let name: &'static str = Box::leak(format!("decimal-{i}").into_boxed_str());
                case(name, Exact, |r| {
                    r.amount = dec(d);
                    r.maybe_amount = Some(dec(d));
                })
            })
            .collect();
        cases.push(case("decimal-max", Exact, |r| r.amount = Decimal::MAX));
        cases.push(case("decimal-min", Exact, |r| r.amount = Decimal::MIN));
        cases.push(case("decimal-none", Exact, |r| r.maybe_amount = None));
        run_cases::<B>(cases).await;
    }

    /// Decimals sort numerically where the database compares them: as ids,
    /// `list` returns them in numeric order on every backend, and on the SQL
    /// backends `ORDER BY` on the column does too.
    pub async fn fidelity_decimals_sort_numerically<B: Backend>() {
        let Some(store) = B::fresh_with(TABLES).await else {
            return;
        };
        let amounts = [
            "10.00", "9.00", "-10.5", "-9.75", "0.001", "1e-28", "100", "-0.5", "2.5",
        ];
        let mut uow = Records::begin(&store).await.expect("begin");
        for (i, a) in amounts.iter().enumerate() {
            let amount = if *a == "1e-28" {
                dec("0.0000000000000000000000000001")
            } else {
                dec(a)
            };
            uow.prices
                .add(Price { amount, version: 0 })
                .expect("add a price");
            let mut r = record(&format!("sorted-{i}"));
            r.amount = amount;
            uow.records.add(r).expect("add a record");
        }
        uow.commit().await.expect("commit");
        let mut uow = Records::begin(&store).await.expect("begin");
        let listed: Vec<Decimal> = uow
            .prices
            .list(100)
            .await
            .expect("list")
            .into_iter()
            .map(|p| p.amount)
            .collect();
        let mut sorted = listed.clone();
        sorted.sort();
        assert_eq!(listed, sorted, "{}: ids in numeric order", B::NAME);
        assert_eq!(listed.len(), amounts.len());
        if let Some(sql) = (&store as &dyn Any).downcast_ref::<SqlxStore>() {
            let q = |name: &str| sql.dialect().quote(name);
            let below = uow_tests::raw_sql::integer(
                sql,
                &format!(
                    "SELECT COUNT(*) FROM {} WHERE {} < (SELECT {} FROM {} WHERE {} = 'sorted-1')",
                    q("fidelity_records"),
                    q("amount"),
                    q("amount"),
                    q("fidelity_records"),
                    q("id"),
                ),
            )
            .await
            .expect("a range query");
            // Below 9.00: -10.5, -9.75, 0.001, 1e-28, -0.5, 2.5.
            assert_eq!(below, 6, "{}: a range comparison on the column", B::NAME);
            let first = uow_tests::raw_sql::text(
                sql,
                &format!(
                    "SELECT {} FROM {} ORDER BY {} DESC LIMIT 1",
                    q("id"),
                    q("fidelity_records"),
                    q("amount")
                ),
            )
            .await
            .expect("ORDER BY");
            assert_eq!(first, "sorted-6", "{}: ORDER BY puts 100 last", B::NAME);
        }
    }

    /// An outbox payload carrying a decimal read back from the store is the
    /// same bytes on every backend.
    pub async fn fidelity_outbox_payload_with_a_decimal_is_identical<B: Backend>()
    where
        B::Store: OutboxStore + 'static,
    {
        let Some(store) = B::fresh_with(TABLES).await else {
            return;
        };
        if let Some(sql) = (&store as &dyn Any).downcast_ref::<SqlxStore>() {
            sql.create_outbox().await.expect("outbox table");
        }
        let mut uow = Records::begin(&store).await.expect("begin");
        let mut r = record("payer");
        r.amount = dec("50.00");
        uow.records.add(r).expect("add");
        uow.commit().await.expect("commit");
        // The event is built from the amount as the store gives it back.
        let mut uow = Records::begin(&store).await.expect("begin");
        let r = uow
            .records
            .get(&"payer".to_owned())
            .await
            .expect("get")
            .expect("stored");
        let amount = r.amount;
        r.events.push(Paid::Paid { amount });
        r.text = "paid".to_owned();
        uow.commit().await.expect("commit");
        let claim = store.claim("fidelity", 10).await.expect("claim");
        let payloads: Vec<String> = claim
            .messages()
            .iter()
            .map(|m| m.record.payload.clone())
            .collect();
        claim.finish().await.expect("finish");
        assert_eq!(
            payloads,
            [r#"{"Paid":{"amount":"50.00"}}"#],
            "{}: the payload",
            B::NAME
        );
    }

    /// Dates in the years 1 to 9999 round-trip, impossible ones cannot be
    /// made, years outside are refused everywhere.
    pub async fn fidelity_dates<B: Backend>() {
        run_cases::<B>(vec![
            case("date-first", Exact, |r| r.day = date(1, 1, 1)),
            case("date-last", Exact, |r| r.day = date(9999, 12, 31)),
            case("date-epoch", Exact, |r| r.day = date(1970, 1, 1)),
            case("date-leap-day", Exact, |r| r.day = date(2000, 2, 29)),
            case("date-1582", Exact, |r| r.day = date(1582, 10, 10)),
            case("date-year-0", Refused("day"), |r| r.day = date(0, 12, 31)),
            case("date-bc", Refused("day"), |r| r.day = date(-44, 3, 15)),
            case("date-year-10000", Refused("day"), |r| {
                r.day = date(10_000, 1, 1)
            }),
            case("date-chrono-max", Refused("day"), |r| {
                r.day = NaiveDate::MAX
            }),
        ])
        .await;
    }

    /// Times of day with microseconds round-trip; a leap second is refused.
    pub async fn fidelity_times<B: Backend>() {
        let t = |h, m, s, micro| NaiveTime::from_hms_micro_opt(h, m, s, micro).expect("a time");
        run_cases::<B>(vec![
            case("time-midnight", Exact, |r| r.clock = t(0, 0, 0, 0)),
            case("time-last", Exact, |r| r.clock = t(23, 59, 59, 999_999)),
            case("time-micro", Exact, |r| r.clock = t(0, 0, 0, 1)),
            case("time-leap-second", Refused("clock"), |r| {
                r.clock = t(23, 59, 59, 1_500_000)
            }),
        ])
        .await;
    }

    /// Timestamps in the years 1 to 9999 with microseconds round-trip;
    /// leap seconds and years outside are refused.
    pub async fn fidelity_timestamps<B: Backend>() {
        let at = |y, mo, d, h, mi, s, micro| {
            date(y, mo, d)
                .and_hms_micro_opt(h, mi, s, micro)
                .expect("a timestamp")
        };
        run_cases::<B>(vec![
            case("ts-first", Exact, |r| {
                r.at = at(1, 1, 1, 0, 0, 0, 0).and_utc();
                r.local = at(1, 1, 1, 0, 0, 0, 0);
            }),
            case("ts-last", Exact, |r| {
                r.at = at(9999, 12, 31, 23, 59, 59, 999_999).and_utc();
                r.local = at(9999, 12, 31, 23, 59, 59, 999_999);
            }),
            case("ts-before-epoch", Exact, |r| {
                r.at = at(1969, 12, 31, 23, 59, 59, 999_999).and_utc();
                r.local = at(1900, 1, 1, 0, 0, 0, 1);
            }),
            case("ts-dst-gap", Exact, |r| {
                r.local = at(2024, 3, 31, 2, 30, 0, 0);
            }),
            case("ts-leap-second-utc", Refused("at"), |r| {
                r.at = at(2016, 12, 31, 23, 59, 59, 1_000_000).and_utc();
            }),
            case("ts-leap-second-local", Refused("local"), |r| {
                r.local = at(2016, 12, 31, 23, 59, 59, 1_999_999);
            }),
            case("ts-year-0", Refused("at"), |r| {
                r.at = at(0, 6, 1, 0, 0, 0, 0).and_utc();
            }),
            case("ts-year-10000", Refused("local"), |r| {
                r.local = at(10_000, 1, 1, 0, 0, 0, 0);
            }),
        ])
        .await;
    }

    /// JSON documents up to the common depth round-trip; deeper ones, and
    /// NUL characters, are refused.
    pub async fn fidelity_json<B: Backend>() {
        fn nested(depth: usize) -> serde_json::Value {
            (1..depth).fold(serde_json::json!([]), |inner, _| serde_json::json!([inner]))
        }
        run_cases::<B>(vec![
            case("json-depth-max", Exact, |r| {
                r.doc = nested(uow_core::backend::MAX_JSON_DEPTH)
            }),
            case("json-depth-above-max", Refused("doc"), |r| {
                r.doc = nested(uow_core::backend::MAX_JSON_DEPTH + 1)
            }),
            case("json-depth-200", Refused("doc"), |r| r.doc = nested(200)),
            case("json-numbers", Exact, |r| {
                r.doc = serde_json::json!([u64::MAX, i64::MIN, 0.1, 1e300, -0.5, 5e-324])
            }),
            case(
                "json-unicode",
                Exact,
                |r| r.doc = serde_json::json!({"é": "日本語 🦀", "e\u{301}": "\u{202e}", "": ""}),
            ),
            case(
                "json-keys",
                Exact,
                |r| r.doc = serde_json::json!({"b": 1, "a": {"d": [], "c": {}}, "aa": null}),
            ),
            case("json-negative-zero", Refused("doc"), |r| {
                r.doc = serde_json::json!([1, -0.0])
            }),
            case("json-nul", Refused("doc"), |r| {
                r.doc = serde_json::json!({"a": "x\u{0}y"})
            }),
            case("json-string-of-brackets", Exact, |r| {
                r.doc = serde_json::json!("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[")
            }),
        ])
        .await;
    }

    /// Text: trailing spaces, case and Unicode forms are kept; NUL and keys
    /// longer than the common limit are refused.
    pub async fn fidelity_text<B: Backend>() {
        let long_key = "é".repeat(uow_core::backend::MAX_KEY_LEN);
        let too_long_key = "é".repeat(uow_core::backend::MAX_KEY_LEN + 1);
        run_cases::<B>(vec![
            case("text-trailing-spaces", Exact, |r| {
                r.text = "pad   ".to_owned()
            }),
            case("text-leading-spaces", Exact, |r| {
                r.text = "  pad".to_owned()
            }),
            case("text-tab-newline", Exact, |r| r.text = "a\t\r\n".to_owned()),
            case("text-unicode", Exact, |r| {
                r.text = "e\u{301} é ﬁ 🦀 \u{feff}".to_owned()
            }),
            case("text-long", Exact, |r| r.text = "x".repeat(100_000)),
            case("text-nul", Refused("text"), |r| r.text = "a\0b".to_owned()),
            case("label-255", Exact, move |r| r.label = long_key),
            case("label-256", Refused("label"), move |r| {
                r.label = too_long_key
            }),
            case("label-trailing", Exact, |r| r.label = "label ".to_owned()),
        ])
        .await;
    }

    /// Keys that differ only by trailing spaces, case or Unicode form are
    /// distinct ids, distinct unique values and distinct finder keys.
    pub async fn fidelity_keys_differing_by_space_case_or_form_are_distinct<B: Backend>() {
        let Some(store) = B::fresh_with(TABLES).await else {
            return;
        };
        let keys = [
            "pad", "pad ", "pad  ", "PAD", "Pad", "é", "e\u{301}", "ß", "ss",
        ];
        let mut uow = Records::begin(&store).await.expect("begin");
        for key in keys {
            let mut r = record(key);
            r.code = key.to_owned();
            uow.records.add(r).expect("add");
        }
        uow.commit()
            .await
            .unwrap_or_else(|e| panic!("{}: distinct keys: {e}", B::NAME));
        let mut uow = Records::begin(&store).await.expect("begin");
        for key in keys {
            let got = uow
                .records
                .get(&key.to_owned())
                .await
                .expect("get")
                .map(|r| r.id.clone());
            assert_eq!(got.as_deref(), Some(key), "{}: get({key:?})", B::NAME);
            let found: Vec<String> = uow
                .records
                .find_by_label(key)
                .await
                .expect("find")
                .into_iter()
                .map(|r| r.id.clone())
                .collect();
            assert_eq!(found, [key], "{}: find_by_label({key:?})", B::NAME);
        }
        let listed: Vec<String> = uow
            .records
            .list(100)
            .await
            .expect("list")
            .into_iter()
            .map(|r| r.id.clone())
            .collect();
        let mut bytewise: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
        bytewise.sort();
        assert_eq!(listed, bytewise, "{}: ids in byte order", B::NAME);
    }

    /// Integers: a `u64` up to `i64::MAX` round-trips; beyond is refused.
    pub async fn fidelity_integers<B: Backend>() {
        run_cases::<B>(vec![
            case("u64-max-stored", Exact, |r| r.count = i64::MAX as u64),
            case("u64-above", Refused("count"), |r| {
                r.count = i64::MAX as u64 + 1
            }),
            case("u64-max", Refused("count"), |r| r.count = u64::MAX),
        ])
        .await;
    }

    /// Finite floats round-trip bit for bit; NaN and infinities are refused.
    pub async fn fidelity_floats<B: Backend>() {
        run_cases::<B>(vec![
            case("f64-max", Exact, |r| r.double = f64::MAX),
            case("f64-min", Exact, |r| r.double = f64::MIN),
            case("f64-tiny", Exact, |r| r.double = f64::MIN_POSITIVE),
            case("f64-subnormal", Exact, |r| r.double = f64::from_bits(1)),
            case("f64-pi", Exact, |r| r.double = std::f64::consts::PI),
            case("f32-max", Exact, |r| r.single = f32::MAX),
            case("f32-subnormal", Exact, |r| r.single = f32::from_bits(1)),
            case("f32-third", Exact, |r| r.single = 1.0 / 3.0),
            case("f64-nan", Refused("double"), |r| r.double = f64::NAN),
            case("f64-inf", Refused("double"), |r| r.double = f64::INFINITY),
            case("f64-neg-inf", Refused("double"), |r| {
                r.double = f64::NEG_INFINITY
            }),
            case("f32-nan", Refused("single"), |r| r.single = f32::NAN),
            case("f32-inf", Refused("single"), |r| r.single = f32::INFINITY),
        ])
        .await;
    }

    /// `decimal(precision = P, scale = S)`: every store gives values back at
    /// scale `S` (`1.5` as `1.5000`), finds them by any scale of the same
    /// number, and refuses a value that does not fit (more digits after the
    /// point, or before it) at commit; the tables verify.
    pub async fn fidelity_fixed_scale_decimals<B: Backend>() {
        const INVOICES: &[&uow_core::backend::AggregateMeta] = &[Invoice::META];
        let Some(store) = B::fresh_with(INVOICES).await else {
            return;
        };
        if let Some(sql) = (&store as &dyn Any).downcast_ref::<SqlxStore>() {
            sql.verify_tables(INVOICES)
                .await
                .expect("the tables verify");
        }
        let invoice = |id: &str, total: &str, rate: Option<&str>| Invoice {
            id: id.to_owned(),
            version: 0,
            total: dec(total),
            rate: rate.map(dec),
        };
        let cases = [
            (
                invoice("a", "1.5", Some("1.5")),
                Ok(("1.5000", Some("1.50"))),
            ),
            (invoice("b", "0", None), Ok(("0.0000", None))),
            (
                invoice("c", "-999999999999999.9999", Some("-999.99")),
                Ok(("-999999999999999.9999", Some("-999.99"))),
            ),
            (
                invoice("d", "12.340000", Some("0.100")),
                Ok(("12.3400", Some("0.10"))),
            ),
            (invoice("e", "1.23456", None), Err("total")),
            (invoice("f", "1000000000000000", None), Err("total")),
            (invoice("g", "1", Some("1000")), Err("rate")),
            (invoice("h", "1", Some("0.001")), Err("rate")),
            (
                invoice("i", "79228162514264337593543950335", None),
                Err("total"),
            ),
        ];
        for (written, expected) in cases {
            for (name, outcome) in [
                (B::NAME, fixed_outcome(&store, &written).await),
                (
                    "in_memory",
                    fixed_outcome(&InMemoryStore::new(), &written).await,
                ),
            ] {
                let expected = expected
                    .map(|(total, rate)| (total.to_owned(), rate.map(str::to_owned)))
                    .map_err(str::to_owned);
                assert_eq!(outcome, expected, "{name}: {written:?}");
            }
        }
        let mut uow = Invoices::begin(&store).await.expect("begin");
        let found: Vec<String> = uow
            .invoices
            .find_by_rate(&dec("1.5"))
            .await
            .expect("find")
            .into_iter()
            .map(|i| i.id.clone())
            .collect();
        assert_eq!(found, ["a"], "{}: found by another scale", B::NAME);
    }

    /// Stores `invoice` and reads it back: its total and rate as text, or
    /// the field the commit was refused for.
    async fn fixed_outcome<S: Store>(
        store: &S,
        invoice: &Invoice,
    ) -> Result<(String, Option<String>), String> {
        let mut uow = Invoices::begin(store).await.expect("begin");
        uow.invoices.add(invoice.clone()).expect("add");
        match uow.commit().await {
            Ok(_) => {
                let mut uow = Invoices::begin(store).await.expect("begin");
                let loaded = uow
                    .invoices
                    .get(&invoice.id)
                    .await
                    .expect("get")
                    .expect("stored")
                    .clone();
                // Committed unchanged, it is not written again (no JSON
                // column: the row read back is the dirty check's snapshot).
                uow.commit().await.expect("commit of an unchanged unit");
                let mut uow = Invoices::begin(store).await.expect("begin");
                let again = uow.invoices.get(&invoice.id).await.expect("get");
                assert_eq!(
                    again.map(|i| i.version),
                    Some(loaded.version),
                    "{invoice:?}: loaded and committed unchanged, yet written again"
                );
                Ok((loaded.total.to_string(), loaded.rate.map(|r| r.to_string())))
            }
            Err(Error::Encode { field, .. }) => Err(field.to_owned()),
            Err(other) => panic!("{invoice:?}: {other}"),
        }
    }

    /// An aggregate without a JSON column, loaded and committed unchanged,
    /// is not written again, whatever its values: decimals of any scale,
    /// times with microseconds, extreme floats and integers, empty and
    /// non-ASCII text, `NULL`s.
    pub async fn fidelity_unchanged_after_a_round_trip_is_not_written<B: Backend>() {
        const LEDGERS: &[&uow_core::backend::AggregateMeta] = &[Ledger::META];
        let Some(store) = B::fresh_with(LEDGERS).await else {
            return;
        };
        let at = date(2024, 2, 29)
            .and_hms_micro_opt(23, 59, 59, 999_999)
            .expect("a timestamp");
        let ledger = |n: u128, amount: &str, double: f64, single: f32| Ledger {
            id: uuid::Uuid::from_u128(n),
            version: 0,
            name: format!("ledger {n} — ünïcödé"),
            note: n.is_multiple_of(2).then(String::new),
            amount: dec(amount),
            fixed: dec(amount).round_dp(4),
            day: date(1970 + n as i32, 1, 1),
            clock: NaiveTime::from_hms_micro_opt(0, 0, 0, n as u32).expect("a time"),
            at: at.and_utc(),
            local: at,
            count: u64::MAX >> n,
            small: i16::MIN + n as i16,
            double,
            single,
            flag: !n.is_multiple_of(2),
            bytes: vec![0, 255, n as u8],
        };
        let ledgers = [
            ledger(1, "1234.50", 0.1, 0.1),
            ledger(
                2,
                "0.0000000000000000000000000001",
                f64::MAX,
                f32::MIN_POSITIVE,
            ),
            ledger(3, "-79228162514264337593543950335", -1e-300, 3.4e38),
            ledger(4, "0", 1.0 / 3.0, 1.0 / 3.0),
        ];
        let mut stored = Vec::new();
        for ledger in &ledgers {
            let mut uow = Ledgers::begin(&store).await.expect("begin");
            uow.ledgers.add(ledger.clone()).expect("add");
            match uow.commit().await {
                Ok(_) => stored.push(ledger.id),
                // What a backend cannot hold is refused; that is another test's.
                Err(Error::Encode { .. }) => {}
                Err(other) => panic!("{}: {ledger:?}: {other}", B::NAME),
            }
        }
        assert!(!stored.is_empty(), "{}: nothing stored", B::NAME);
        let mut uow = Ledgers::begin(&store).await.expect("begin");
        for id in &stored {
            uow.ledgers.get(id).await.expect("get").expect("stored");
        }
        let found = uow
            .ledgers
            .find_by_name("ledger 1 — ünïcödé")
            .await
            .expect("find_by_name")
            .into_iter()
            .map(|l| l.id)
            .collect::<Vec<_>>();
        let first: Vec<_> = stored
            .iter()
            .copied()
            .filter(|id| *id == uuid::Uuid::from_u128(1))
            .collect();
        assert_eq!(found, first, "{}: the finder on non-ASCII text", B::NAME);
        uow.commit().await.expect("commit of an unchanged unit");
        let mut uow = Ledgers::begin(&store).await.expect("begin");
        for id in &stored {
            let version = uow.ledgers.get(id).await.expect("get").map(|l| l.version);
            assert_eq!(
                version,
                Some(1),
                "{}: ledger {id}: loaded and committed unchanged, yet written again",
                B::NAME
            );
        }
    }

    /// UUIDs round-trip, including the nil and the max UUID.
    pub async fn fidelity_uuids<B: Backend>() {
        run_cases::<B>(vec![
            case("uuid-nil", Exact, |r| r.uuid = uuid::Uuid::nil()),
            case("uuid-max", Exact, |r| r.uuid = uuid::Uuid::max()),
            case("uuid-v7", Exact, |r| r.uuid = uuid::Uuid::now_v7()),
        ])
        .await;
    }
}

uow_tests::on_backends!([in_memory, sqlite, postgres, mysql] scenarios: [
    fidelity_decimals_keep_value_and_scale,
    fidelity_decimals_sort_numerically,
    fidelity_outbox_payload_with_a_decimal_is_identical,
    fidelity_dates,
    fidelity_times,
    fidelity_timestamps,
    fidelity_json,
    fidelity_text,
    fidelity_keys_differing_by_space_case_or_form_are_distinct,
    fidelity_integers,
    fidelity_floats,
    fidelity_uuids,
    fidelity_fixed_scale_decimals,
    fidelity_unchanged_after_a_round_trip_is_not_written,
]);
