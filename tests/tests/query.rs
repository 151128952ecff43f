//! Typed queries (#14), one list of scenarios on every backend: every
//! operator, ordering by several fields with ties, NULLs, the order of
//! text, decimals and dates, keyset pagination across writes made between
//! pages, enum columns, the identity map, and a payments listing written
//! once, generic over the store, giving the same pages everywhere.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;
use uow_core::{Aggregate, ColumnValue, Cursor, Error, Store, unit_of_work};
use uow_tests::backends::Backend;

/// Where a payment stands (an enum column, #15).
#[derive(ColumnValue, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Pending,
    Settled,
    Refunded,
}

/// An item with a field of every ordered kind.
#[derive(Aggregate, Clone, Debug, PartialEq)]
#[aggregate(table = "query_items")]
pub struct Item {
    #[aggregate(id)]
    pub id: String,
    #[aggregate(version)]
    pub version: u64,
    pub name: String,
    pub rank: Option<i64>,
    pub price: Decimal,
    pub day: NaiveDate,
    pub flag: bool,
    pub status: Status,
    #[aggregate(json)]
    pub tags: Vec<String>,
}

/// A payment of the listing scenario.
#[derive(Aggregate, Clone, Debug, PartialEq)]
#[aggregate(table = "query_payments", index(merchant, created_at))]
pub struct Payment {
    #[aggregate(id)]
    pub id: uuid::Uuid,
    #[aggregate(version)]
    pub version: u64,
    pub merchant: String,
    pub created_at: DateTime<Utc>,
    pub amount: Decimal,
}

#[unit_of_work]
pub struct Catalogue {
    pub items: Item,
    pub payments: Payment,
}

const TABLES: &[&uow_core::backend::AggregateMeta] = &[Item::META, Payment::META];

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, d).expect("a day of January")
}

fn dec(text: &str) -> Decimal {
    text.parse().expect("a decimal")
}

fn item(id: &str, name: &str, rank: Option<i64>, price: &str, d: u32) -> Item {
    Item {
        id: id.to_owned(),
        version: 0,
        name: name.to_owned(),
        rank,
        price: dec(price),
        day: day(d),
        flag: d.is_multiple_of(2),
        status: match d % 3 {
            0 => Status::Pending,
            1 => Status::Settled,
            _ => Status::Refunded,
        },
        tags: vec![format!("tag-{d}")],
    }
}

/// Eight items: ranks with ties and NULLs, names whose byte order differs
/// from a case-insensitive or accent-aware one, decimals whose text order
/// differs from their numeric order.
fn items() -> Vec<Item> {
    vec![
        item("a", "apple", Some(2), "10.00", 5),
        item("b", "Banana", Some(1), "9.50", 3),
        item("c", "cherry", None, "-2", 8),
        item("d", "date", Some(2), "100", 1),
        item("e", "Éclair", Some(3), "0.01", 2),
        item("f", "fig", None, "9.5", 7),
        item("g", "grape", Some(1), "-10.5", 4),
        item("h", "zucchini", Some(2), "1", 6),
    ]
}

async fn store_items<S: Store>(store: &S) {
    let mut uow = Catalogue::begin(store).await.expect("begin");
    for item in items() {
        uow.items.add(item).expect("add");
    }
    uow.commit().await.expect("commit");
}

fn ids(items: Vec<&mut Item>) -> Vec<String> {
    items.into_iter().map(|i| i.id.clone()).collect()
}

mod scenarios {
    use super::*;

    /// eq, lt, le, gt, ge, between, is_in, is_null, is_not_null, several
    /// filters together, count and exists.
    pub async fn query_every_operator<B: Backend>() {
        let Some(store) = B::fresh_with(TABLES).await else {
            return;
        };
        store_items(&store).await;
        let mut uow = Catalogue::begin(&store).await.expect("begin");
        let q = &mut uow.items;
        let got = q.query().filter(|i| i.rank.eq(2)).all().await.expect("eq");
        assert_eq!(ids(got), ["a", "d", "h"]);
        let got = q.query().filter(|i| i.name.eq("fig")).all().await;
        assert_eq!(ids(got.expect("eq text")), ["f"]);
        let got = q.query().filter(|i| i.rank.lt(2)).all().await.expect("lt");
        assert_eq!(ids(got), ["b", "g"]);
        let got = q.query().filter(|i| i.rank.le(2)).all().await.expect("le");
        assert_eq!(ids(got), ["a", "b", "d", "g", "h"]);
        let got = q.query().filter(|i| i.rank.gt(2)).all().await.expect("gt");
        assert_eq!(ids(got), ["e"]);
        let got = q.query().filter(|i| i.rank.ge(2)).all().await.expect("ge");
        assert_eq!(ids(got), ["a", "d", "e", "h"]);
        let got = q.query().filter(|i| i.day.between(day(3), day(6))).all();
        assert_eq!(ids(got.await.expect("between")), ["a", "b", "g", "h"]);
        let got = q.query().filter(|i| i.name.is_in(["fig", "date", "kiwi"]));
        assert_eq!(ids(got.all().await.expect("in")), ["d", "f"]);
        let none: [&str; 0] = [];
        let got = q.query().filter(|i| i.name.is_in(none)).all().await;
        assert!(got.expect("empty in").is_empty());
        let got = q.query().filter(|i| i.rank.is_null()).all().await;
        assert_eq!(ids(got.expect("is null")), ["c", "f"]);
        let got = q.query().filter(|i| i.rank.eq(None)).all().await;
        assert_eq!(ids(got.expect("eq None")), ["c", "f"]);
        let got = q.query().filter(|i| i.rank.is_not_null()).count().await;
        assert_eq!(got.expect("is not null"), 6);
        let got = q.query().filter(|i| i.flag.eq(true)).all().await;
        assert_eq!(ids(got.expect("bool")), ["c", "e", "g", "h"]);
        let got = q
            .query()
            .filter(|i| i.rank.eq(2))
            .filter(|i| i.flag.eq(false))
            .filter(|i| i.price.gt(dec("5")))
            .all()
            .await;
        assert_eq!(ids(got.expect("and")), ["a", "d"]);
        let got = q
            .query()
            .filter(|i| i.rank.eq(3).or(i.name.eq("fig")))
            .all()
            .await;
        assert_eq!(ids(got.expect("or")), ["e", "f"]);
        assert_eq!(q.query().count().await.expect("count all"), 8);
        let count = q.query().filter(|i| i.rank.lt(3)).count().await;
        assert_eq!(count.expect("count"), 5);
        assert!(
            q.query()
                .filter(|i| i.name.eq("fig"))
                .exists()
                .await
                .expect("exists")
        );
        assert!(
            !q.query()
                .filter(|i| i.name.eq("kiwi"))
                .exists()
                .await
                .expect("exists")
        );
        let got = q.query().filter(|i| i.rank.ge(1)).limit(2).all().await;
        assert_eq!(ids(got.expect("limit")), ["a", "b"]);
        let first = q.query().order_by(|i| i.day.desc()).first().await;
        assert_eq!(first.expect("first").expect("an item").id, "c");
    }

    /// Several ordering terms; ties of all of them come by id.
    pub async fn query_orders_by_several_fields_with_ties_by_id<B: Backend>() {
        let Some(store) = B::fresh_with(TABLES).await else {
            return;
        };
        store_items(&store).await;
        let mut uow = Catalogue::begin(&store).await.expect("begin");
        let got = uow
            .items
            .query()
            .filter(|i| i.rank.is_not_null())
            .order_by(|i| i.rank.desc())
            .order_by(|i| i.flag.asc())
            .all()
            .await;
        // rank 3: e; rank 2: a, d (false, by id), h (true); rank 1: b (false), g (true).
        assert_eq!(ids(got.expect("query")), ["e", "a", "d", "h", "b", "g"]);
        let got = uow.items.query().order_by(|i| i.flag.desc()).all().await;
        assert_eq!(
            ids(got.expect("query")),
            ["c", "e", "g", "h", "a", "b", "d", "f"]
        );
    }

    /// NULLs first ascending, last descending, on every store.
    pub async fn query_orders_nulls_first_ascending_last_descending<B: Backend>() {
        let Some(store) = B::fresh_with(TABLES).await else {
            return;
        };
        store_items(&store).await;
        let mut uow = Catalogue::begin(&store).await.expect("begin");
        let got = uow.items.query().order_by(|i| i.rank.asc()).all().await;
        assert_eq!(
            ids(got.expect("asc")),
            ["c", "f", "b", "g", "a", "d", "h", "e"]
        );
        let got = uow.items.query().order_by(|i| i.rank.desc()).all().await;
        assert_eq!(
            ids(got.expect("desc")),
            ["e", "a", "d", "h", "b", "g", "c", "f"]
        );
    }

    /// Text by bytes, decimals numerically (then by scale), dates by time.
    pub async fn query_orders_text_decimals_and_dates<B: Backend>() {
        let Some(store) = B::fresh_with(TABLES).await else {
            return;
        };
        store_items(&store).await;
        let mut uow = Catalogue::begin(&store).await.expect("begin");
        let names: Vec<String> = uow
            .items
            .query()
            .order_by(|i| i.name.asc())
            .all()
            .await
            .expect("by name")
            .into_iter()
            .map(|i| i.name.clone())
            .collect();
        assert_eq!(
            names,
            [
                "Banana", "apple", "cherry", "date", "fig", "grape", "zucchini", "Éclair"
            ]
        );
        let got = uow.items.query().order_by(|i| i.price.asc()).all().await;
        // -10.5, -2, 0.01, 1, 9.5, 9.50, 10.00, 100: one number spelled
        // twice comes by scale (f's 9.5 before b's 9.50), not by id.
        assert_eq!(
            ids(got.expect("by price")),
            ["g", "c", "e", "h", "f", "b", "a", "d"]
        );
        let got = uow.items.query().filter(|i| i.price.ge(dec("9.5"))).count();
        assert_eq!(got.await.expect("price range"), 4);
        let got = uow.items.query().filter(|i| i.price.lt(dec("9.50"))).all();
        assert_eq!(
            ids(got.await.expect("below 9.50")),
            ["c", "e", "f", "g", "h"]
        );
        let got = uow.items.query().order_by(|i| i.day.asc()).all().await;
        assert_eq!(
            ids(got.expect("by day")),
            ["d", "e", "b", "g", "a", "h", "f", "c"]
        );
        let got = uow.items.query().filter(|i| i.name.gt("Z")).count().await;
        assert_eq!(got.expect("names after Z"), 7);
    }

    /// A fieldless enum column is found by a typed query.
    pub async fn query_finds_enum_columns<B: Backend>() {
        let Some(store) = B::fresh_with(TABLES).await else {
            return;
        };
        store_items(&store).await;
        let mut uow = Catalogue::begin(&store).await.expect("begin");
        let got = uow
            .items
            .query()
            .filter(|i| i.status.eq(Status::Pending))
            .all();
        assert_eq!(ids(got.await.expect("pending")), ["b", "h"]);
        let got = uow
            .items
            .query()
            .filter(|i| i.status.is_in([Status::Settled, Status::Refunded]))
            .order_by(|i| i.status.asc())
            .all()
            .await;
        // "Refunded" < "Settled" by bytes: a, c, e (refunded), d, f, g (settled).
        assert_eq!(ids(got.expect("in")), ["a", "c", "e", "d", "f", "g"]);
    }

    /// Keyset pages: rows added before the cursor's position are not seen,
    /// rows added after it are, removed rows are gone, and no row repeats.
    pub async fn query_pages_across_inserts_and_deletes<B: Backend>() {
        let Some(store) = B::fresh_with(TABLES).await else {
            return;
        };
        store_items(&store).await;
        let page = |cursor: Option<Cursor>| {
            let store = store.clone();
            async move {
                let mut uow = Catalogue::begin(&store).await.expect("begin");
                let page = uow
                    .items
                    .query()
                    .order_by(|i| i.rank.desc())
                    .page(3, cursor.as_ref())
                    .await
                    .expect("page");
                (ids(page.items), page.next)
            }
        };
        // Order: e(3) a d h(2) b g(1) c f(NULL).
        let (first, next) = page(None).await;
        assert_eq!(first, ["e", "a", "d"]);
        let next = next.expect("more pages");
        // Between pages: one item before the position, one after, and one
        // of the next page removed.
        let mut uow = Catalogue::begin(&store).await.expect("begin");
        uow.items
            .add(item("aa", "before", Some(3), "1", 1))
            .expect("add");
        uow.items
            .add(item("ha", "after", Some(2), "1", 1))
            .expect("add");
        uow.items
            .add(item("zz", "null", None, "1", 1))
            .expect("add");
        uow.items.remove(&"b".to_owned()).await.expect("remove");
        uow.commit().await.expect("commit");
        let (second, next) = page(Some(next)).await;
        assert_eq!(second, ["h", "ha", "g"]);
        let (third, next) = page(next).await;
        assert_eq!(third, ["c", "f", "zz"]);
        assert!(next.is_none(), "the last page");
    }

    /// A tracked aggregate comes back as the tracked instance with its
    /// unsaved changes; matching is on the committed state; removed ones
    /// are left out; added ones are not found before commit.
    pub async fn query_returns_tracked_instances<B: Backend>() {
        let Some(store) = B::fresh_with(TABLES).await else {
            return;
        };
        store_items(&store).await;
        let mut uow = Catalogue::begin(&store).await.expect("begin");
        let apple = uow.items.get(&"a".to_owned()).await.expect("get");
        apple.expect("a").rank = Some(99);
        uow.items.remove(&"d".to_owned()).await.expect("remove");
        uow.items
            .add(item("new", "new", Some(2), "1", 1))
            .expect("add");
        let got = uow
            .items
            .query()
            .filter(|i| i.rank.eq(2))
            .all()
            .await
            .expect("query");
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].id.as_str(), got[0].rank), ("a", Some(99)));
        assert_eq!(got[1].id, "h");
        got.into_iter().for_each(|i| i.name.push('!'));
        assert_eq!(
            uow.items
                .query()
                .filter(|i| i.rank.eq(99))
                .count()
                .await
                .expect("count"),
            0
        );
        uow.commit().await.expect("commit");
        let mut uow = Catalogue::begin(&store).await.expect("begin");
        let got = uow
            .items
            .query()
            .filter(|i| i.rank.eq(99))
            .all()
            .await
            .expect("query");
        assert_eq!(got[0].name, "apple!");
    }

    /// A read-only unit of work reads and queries with the same identity
    /// map, ends without writes, and refuses to commit a change (nothing
    /// stored).
    pub async fn query_in_a_read_only_unit_of_work<B: Backend>() {
        let Some(store) = B::fresh_with(TABLES).await else {
            return;
        };
        store_items(&store).await;
        let mut uow = Catalogue::begin_read_only(&store).await.expect("begin");
        let apple = uow
            .items
            .get(&"a".to_owned())
            .await
            .expect("get")
            .expect("a");
        apple.name = "changed".into();
        let got = uow
            .items
            .query()
            .filter(|i| i.rank.eq(2))
            .all()
            .await
            .expect("query");
        assert_eq!(got[0].name, "changed", "the tracked instance");
        let error = uow
            .commit()
            .await
            .expect_err("a read-only unit cannot write");
        assert!(
            matches!(error, Error::ReadOnly { writes: 1, .. }),
            "{error:?}"
        );
        assert!(!error.is_retryable());

        let mut uow = Catalogue::begin_read_only(&store).await.expect("begin");
        let page = uow
            .items
            .query()
            .order_by(|i| i.name.asc())
            .page(3, None)
            .await;
        assert_eq!(ids(page.expect("page").items), ["b", "a", "c"]);
        assert_eq!(
            uow.items
                .get(&"a".to_owned())
                .await
                .expect("get")
                .expect("a")
                .name,
            "apple"
        );
        uow.commit().await.expect("nothing to write: the unit ends");
    }

    /// A cursor of another ordering, or an altered one, is refused.
    pub async fn query_refuses_a_foreign_cursor<B: Backend>() {
        let Some(store) = B::fresh_with(TABLES).await else {
            return;
        };
        store_items(&store).await;
        let mut uow = Catalogue::begin(&store).await.expect("begin");
        let page = uow
            .items
            .query()
            .order_by(|i| i.name.asc())
            .page(2, None)
            .await;
        let cursor = page.expect("page").next.expect("more");
        let other = uow
            .items
            .query()
            .order_by(|i| i.day.asc())
            .page(2, Some(&cursor))
            .await;
        assert!(
            matches!(other, Err(Error::InvalidCursor { .. })),
            "{other:?}"
        );
        let garbage = Cursor::parse("zz");
        let other = uow
            .items
            .query()
            .order_by(|i| i.name.asc())
            .page(2, Some(&garbage))
            .await;
        assert!(
            matches!(other, Err(Error::InvalidCursor { .. })),
            "{other:?}"
        );
        // A cursor's text survives a round trip through a client.
        let again = Cursor::parse(cursor.to_string());
        let page = uow
            .items
            .query()
            .order_by(|i| i.name.asc())
            .page(2, Some(&again))
            .await;
        assert_eq!(ids(page.expect("page").items), ["c", "d"]);
    }

    /// The payments listing: one merchant's payments newest first, 50 per
    /// page by cursor, over 500 rows; the pages are the ones the data says.
    pub async fn query_lists_a_merchants_payments_by_page<B: Backend>() {
        let Some(store) = B::fresh_with(TABLES).await else {
            return;
        };
        let payments = listing::seed(&store).await;
        let pages = listing::all_pages(&store, "acme").await.expect("pages");
        let mut expected: Vec<&Payment> =
            payments.iter().filter(|p| p.merchant == "acme").collect();
        expected.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.id.cmp(&b.id)));
        let expected: Vec<Vec<uuid::Uuid>> = expected
            .chunks(50)
            .map(|page| page.iter().map(|p| p.id).collect())
            .collect();
        assert_eq!(pages.len(), expected.len());
        assert_eq!(pages, expected);
        uow_tests::report(&format!(
            "{}: {} pages of acme's payments, first ids {:?}",
            B::NAME,
            pages.len(),
            &pages[0][..2]
        ));
    }
}

/// The listing of a payments service, written once over any store.
pub mod listing {
    use super::*;

    /// One page of a merchant's payments, newest first.
    pub async fn page<S: Store>(
        store: &S,
        merchant: &str,
        after: Option<&Cursor>,
    ) -> Result<(Vec<uuid::Uuid>, Option<Cursor>), Error> {
        let mut uow = Catalogue::begin(store).await?;
        let page = uow
            .payments
            .query()
            .filter(|p| p.merchant.eq(merchant))
            .order_by(|p| p.created_at.desc())
            .page(50, after)
            .await?;
        Ok((page.items.iter().map(|p| p.id).collect(), page.next))
    }

    /// Every page, following the cursors.
    pub async fn all_pages<S: Store>(
        store: &S,
        merchant: &str,
    ) -> Result<Vec<Vec<uuid::Uuid>>, Error> {
        let mut pages = Vec::new();
        let mut cursor = None;
        loop {
            let (ids, next) = page(store, merchant, cursor.as_ref()).await?;
            pages.push(ids);
            match next {
                Some(next) => cursor = Some(next),
                None => return Ok(pages),
            }
        }
    }

    /// 500 payments of three merchants (acme holds 7 in 10), made the same
    /// way on every store: times with ties (one in four shares a second
    /// with another), ids from a fixed generator.
    pub async fn seed<S: Store>(store: &S) -> Vec<Payment> {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let payments: Vec<Payment> = (0..500)
            .map(|n| {
                let merchant = match next() % 10 {
                    0..=6 => "acme",
                    7 | 8 => "globex",
                    _ => "initech",
                };
                Payment {
                    id: uuid::Uuid::from_u64_pair(next(), next()),
                    version: 0,
                    merchant: merchant.to_owned(),
                    created_at: start + chrono::TimeDelta::seconds((n * 3 / 4) as i64),
                    amount: Decimal::new((next() % 100_000) as i64, 2),
                }
            })
            .collect();
        let mut uow = Catalogue::begin(store).await.expect("begin");
        for payment in &payments {
            uow.payments.add(payment.clone()).expect("add");
        }
        uow.commit().await.expect("commit");
        payments
    }
}

/// The composite index of `#[aggregate(index(merchant, created_at))]`:
/// in the DDL, created, and required by start-up verification.
mod composite_index {
    use super::*;
    use uow_sqlx::SqlxStore;
    use uow_tests::raw_sql;

    pub async fn query_index_is_created_and_verified<B: Backend<Store = SqlxStore>>() {
        let Some(store) = B::fresh_with(TABLES).await else {
            return;
        };
        let ddl = store.ddl(&[Payment::META]);
        let quoted = |name: &str| match B::NAME {
            "postgres" => format!("\"{name}\""),
            _ => format!("`{name}`"),
        };
        let columns = format!("({}, {})", quoted("merchant"), quoted("created_at"));
        assert!(ddl.contains(&columns), "{ddl}");
        store.verify_tables(TABLES).await.expect("the tables fit");
        let drop = match B::NAME {
            "mysql" => "DROP INDEX `query_payments_merchant_created_at_idx` ON `query_payments`",
            "postgres" => "DROP INDEX \"query_payments_merchant_created_at_idx\"",
            _ => "DROP INDEX `query_payments_merchant_created_at_idx`",
        };
        raw_sql::execute(&store, drop)
            .await
            .expect("drop the index");
        match store.verify_tables(TABLES).await {
            Err(Error::Schema { table, problem, .. }) => {
                assert_eq!(table, "query_payments");
                assert!(problem.contains("index(merchant, created_at)"), "{problem}");
            }
            other => panic!("expected a schema error, got {other:?}"),
        }
        // An index that starts with the two columns serves as well.
        raw_sql::execute(
            &store,
            &format!(
                "CREATE INDEX {} ON {} ({}, {}, {})",
                quoted("wider"),
                quoted("query_payments"),
                quoted("merchant"),
                quoted("created_at"),
                quoted("amount"),
            ),
        )
        .await
        .expect("create a wider index");
        store
            .verify_tables(TABLES)
            .await
            .expect("the wider index serves");
    }
}

/// A read-only unit of work on a server runs in a transaction that refuses
/// writes (no read-write transaction is opened for it).
mod read_only_transaction {
    use super::*;
    use uow_sqlx::SqlxStore;

    pub async fn query_read_only_unit_refuses_writes_on_the_server<
        B: Backend<Store = SqlxStore>,
    >() {
        let Some(store) = B::fresh_with(TABLES).await else {
            return;
        };
        store_items(&store).await;
        let uow = Catalogue::begin_read_only(&store).await.expect("begin");
        let tx = uow.transaction();
        let outcome = match B::NAME {
            "postgres" => {
                tx.with_postgres(|conn| {
                    Box::pin(async move {
                        sqlx::query("UPDATE query_items SET name = 'x'")
                            .execute(conn)
                            .await
                            .map(drop)
                    })
                })
                .await
            }
            _ => {
                tx.with_mysql(|conn| {
                    Box::pin(async move {
                        sqlx::query("UPDATE query_items SET name = 'x'")
                            .execute(conn)
                            .await
                            .map(drop)
                    })
                })
                .await
            }
        };
        let error = outcome.expect_err("a READ ONLY transaction refuses the write");
        let chain = format!("{error} {:?}", std::error::Error::source(&error));
        assert!(chain.to_lowercase().contains("read"), "{chain}");
    }
}

mod sql {
    uow_tests::on_backends!([sqlite, postgres, mysql] composite_index: [
        query_index_is_created_and_verified,
    ]);
    use super::composite_index;
}

mod servers {
    uow_tests::on_backends!([postgres, mysql] read_only_transaction: [
        query_read_only_unit_refuses_writes_on_the_server,
    ]);
    use super::read_only_transaction;
}

uow_tests::on_backends!([in_memory, sqlite, postgres, mysql] scenarios: [
    query_every_operator,
    query_orders_by_several_fields_with_ties_by_id,
    query_orders_nulls_first_ascending_last_descending,
    query_orders_text_decimals_and_dates,
    query_finds_enum_columns,
    query_pages_across_inserts_and_deletes,
    query_returns_tracked_instances,
    query_refuses_a_foreign_cursor,
    query_in_a_read_only_unit_of_work,
    query_lists_a_merchants_payments_by_page,
]);
