//! Scale curves (`--benches curves`): how uow's cost grows with the size of
//! the work, against the same work in hand-written sqlx, each written as a
//! table into `BENCHMARKS.md` and as an SVG chart ([`crate::plot`]):
//!
//! - commit time against the number of aggregates a unit of work tracks
//!   but did not change (it changed one), with the cost per unchanged
//!   aggregate;
//! - the memory a unit of work holds per tracked aggregate, counted by the
//!   benchmark's global allocator, against the hand-written rows;
//! - rows per second loading 100, 1,000 and 10,000 aggregates through a
//!   generated finder and through a typed query, against the same `SELECT`
//!   decoded by sqlx;
//! - rows per second of one commit adding N aggregates, against
//!   hand-written multi-row `INSERT`s.
//!
//! The work runs on its own table, `bench_holdings`, of 100,000 rows (the
//! inserts use `bench_accounts`, as (3) does).

use std::alloc::{GlobalAlloc, Layout, System};
use std::fmt::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};
use std::time::{Duration, Instant};

use sqlx::Connection;
use uow_core::{Aggregate, Error, Store, unit_of_work};

use crate::backends::{Backend, Database, Pool};
use crate::handwritten::BoxError;
use crate::harness::{Plan, median, thousands};
use crate::model::{INSERTED_FROM, account};
use crate::plot::{Chart, Series};

// ---------------------------------------------------------------------------
// Counting allocations

/// The system allocator, counting the bytes live while
/// [`counting`](Counting::on) is on. Off, it costs one relaxed load per
/// call, so the timed benchmarks run as on the plain system allocator.
pub struct Counting;

/// Whether allocations are counted now.
static COUNTING: AtomicBool = AtomicBool::new(false);

/// Bytes allocated minus bytes freed while counting (on its own cache
/// line, away from the flag every allocation reads).
#[repr(align(128))]
struct Live(AtomicIsize);
static LIVE: Live = Live(AtomicIsize::new(0));

// SAFETY: every call is forwarded to `System` unchanged; the counting only
// reads the layouts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() && COUNTING.load(Ordering::Relaxed) {
            LIVE.0.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() && COUNTING.load(Ordering::Relaxed) {
            LIVE.0.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(ptr, layout) };
        if COUNTING.load(Ordering::Relaxed) {
            LIVE.0.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() && COUNTING.load(Ordering::Relaxed) {
            LIVE.0.fetch_add(
                new_size as isize - layout.size() as isize,
                Ordering::Relaxed,
            );
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

impl Counting {
    fn on() {
        COUNTING.store(true, Ordering::SeqCst);
    }

    fn off() {
        COUNTING.store(false, Ordering::SeqCst);
    }

    /// Bytes live, as counted so far (only differences taken while
    /// counting mean anything).
    fn live() -> isize {
        LIVE.0.load(Ordering::SeqCst)
    }
}

/// The bytes `hold` allocates and keeps until `release`: counted from
/// after `hold` returns to after `release` returns (what `release` frees,
/// so what was allocated before and is kept after does not count).
async fn held_bytes<T, F: Future<Output = Result<T, BoxError>>>(
    hold: F,
    release: impl FnOnce(T),
) -> Result<isize, BoxError> {
    Counting::on();
    let held = hold.await;
    let held = match held {
        Ok(h) => h,
        Err(e) => {
            Counting::off();
            return Err(e);
        }
    };
    let before = Counting::live();
    release(held);
    let after = Counting::live();
    Counting::off();
    Ok(before - after)
}

// ---------------------------------------------------------------------------
// The table

/// The rows of `bench_holdings`.
pub const ROWS: i64 = 100_000;
/// The sizes of the curves.
pub const SIZES: [usize; 6] = [1, 10, 100, 1_000, 10_000, 100_000];
/// The smallest N of the memory curve: below it, the unit of work's
/// fixed part and what other tasks free meanwhile (a pooled connection's
/// return) outweigh the aggregates.
const MEMORY_FROM: usize = 100;
/// The sizes of the load curve: the rows one finder call returns.
pub const LOAD_SIZES: [usize; 3] = [100, 1_000, 10_000];

/// An account of the scale table: `region`, `district` and `street` group
/// the rows by 10,000, 1,000 and 100 for the finders.
#[derive(Aggregate, Clone, Debug, PartialEq)]
#[aggregate(table = "bench_holdings")]
pub struct Holding {
    #[aggregate(id)]
    pub id: i64,
    #[aggregate(version)]
    pub version: i64,
    pub owner: String,
    pub email: String,
    pub balance: i64,
    /// `id % 10`: 10,000 rows each.
    #[aggregate(find_by)]
    pub region: i64,
    /// `id % 100`: 1,000 rows each.
    #[aggregate(find_by)]
    pub district: i64,
    /// `id % 1,000`: 100 rows each.
    #[aggregate(find_by)]
    pub street: i64,
}

/// The unit of work of the curves.
#[unit_of_work]
pub struct Portfolio {
    pub holdings: Holding,
}

fn holding(id: i64) -> Holding {
    Holding {
        id,
        version: 0,
        owner: format!("Owner number {id}"),
        email: format!("owner.{id}@example.com"),
        balance: id * 10,
        region: id % 10,
        district: id % 100,
        street: id % 1_000,
    }
}

/// The row as hand-written sqlx decodes it.
type Row = (i64, i64, String, String, i64, i64, i64, i64);

impl From<Row> for Holding {
    fn from((id, version, owner, email, balance, region, district, street): Row) -> Self {
        Holding {
            id,
            version,
            owner,
            email,
            balance,
            region,
            district,
            street,
        }
    }
}

/// Which rows a load takes: the first N by id, or a finder's group.
#[derive(Clone, Copy, Debug)]
enum Rows {
    First(usize),
    /// The group of `size` rows (`LOAD_SIZES`) numbered `key`.
    Group {
        size: usize,
        key: i64,
    },
}

impl Rows {
    /// The group of `size` rows with the `k`-th key.
    fn group(size: usize, k: usize) -> Rows {
        let groups = (ROWS as usize / size) as i64;
        Rows::Group {
            size,
            key: (k as i64 * 7) % groups,
        }
    }
}

/// Creates `bench_holdings` afresh (uow's DDL) and stores its rows.
async fn setup(db: &Database) -> Result<(), BoxError> {
    db.execute("DROP TABLE IF EXISTS bench_holdings").await?;
    db.marked.create_tables(&[Holding::META]).await?;
    let mut uow = Portfolio::begin(&db.store).await?;
    for id in 1..=ROWS {
        uow.holdings.add(holding(id))?;
    }
    uow.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------------------
// uow

/// Loads `rows` into a unit of work; the number loaded.
async fn uow_load<S: Store>(uow: &mut Portfolio<S>, rows: Rows) -> Result<usize, Error> {
    Ok(match rows {
        Rows::First(n) => uow.holdings.list(n as u64).await?.len(),
        Rows::Group { size: 10_000, key } => uow.holdings.find_by_region(&key).await?.len(),
        Rows::Group { size: 1_000, key } => uow.holdings.find_by_district(&key).await?.len(),
        Rows::Group { key, .. } => uow.holdings.find_by_street(&key).await?.len(),
    })
}

/// The same rows through a typed query.
async fn uow_query<S: Store>(
    uow: &mut Portfolio<S>,
    size: usize,
    key: i64,
) -> Result<usize, Error> {
    let q = uow.holdings.query();
    let q = match size {
        10_000 => q.filter(|h| h.region.eq(key)),
        1_000 => q.filter(|h| h.district.eq(key)),
        _ => q.filter(|h| h.street.eq(key)),
    };
    Ok(q.all().await?.len())
}

/// Loads the first `n` holdings (untimed), changes the first, and times
/// the commit.
async fn uow_unchanged<S: Store>(store: &S, n: usize) -> Result<Duration, BoxError> {
    let mut uow = Portfolio::begin(store).await?;
    let first = uow.holdings.list(n as u64).await?;
    check(first.len(), n)?;
    first.into_iter().next().ok_or("no holding")?.balance += 1;
    let start = Instant::now();
    uow.commit().await?;
    Ok(start.elapsed())
}

fn check(loaded: usize, expected: usize) -> Result<(), BoxError> {
    if loaded == expected {
        Ok(())
    } else {
        Err(format!("loaded {loaded} rows, not {expected}").into())
    }
}

// ---------------------------------------------------------------------------
// Hand-written sqlx

/// The statements of one dialect.
struct Sql {
    first: &'static str,
    region: &'static str,
    district: &'static str,
    street: &'static str,
    update: &'static str,
}

const QUESTION_MARKS: Sql = Sql {
    first: "SELECT id, version, owner, email, balance, region, district, street FROM bench_holdings ORDER BY id LIMIT ?",
    region: "SELECT id, version, owner, email, balance, region, district, street FROM bench_holdings WHERE region = ? ORDER BY id",
    district: "SELECT id, version, owner, email, balance, region, district, street FROM bench_holdings WHERE district = ? ORDER BY id",
    street: "SELECT id, version, owner, email, balance, region, district, street FROM bench_holdings WHERE street = ? ORDER BY id",
    update: "UPDATE bench_holdings SET version = ?, owner = ?, email = ?, balance = ?, region = ?, district = ?, street = ? WHERE id = ? AND version = ?",
};

const POSTGRES: Sql = Sql {
    first: "SELECT id, version, owner, email, balance, region, district, street FROM bench_holdings ORDER BY id LIMIT $1",
    region: "SELECT id, version, owner, email, balance, region, district, street FROM bench_holdings WHERE region = $1 ORDER BY id",
    district: "SELECT id, version, owner, email, balance, region, district, street FROM bench_holdings WHERE district = $1 ORDER BY id",
    street: "SELECT id, version, owner, email, balance, region, district, street FROM bench_holdings WHERE street = $1 ORDER BY id",
    update: "UPDATE bench_holdings SET version = $1, owner = $2, email = $3, balance = $4, region = $5, district = $6, street = $7 WHERE id = $8 AND version = $9",
};

impl Sql {
    /// The statement loading `rows`, and its parameter.
    fn select(&self, rows: Rows) -> (&'static str, i64) {
        match rows {
            Rows::First(n) => (self.first, n as i64),
            Rows::Group { size: 10_000, key } => (self.region, key),
            Rows::Group { size: 1_000, key } => (self.district, key),
            Rows::Group { key, .. } => (self.street, key),
        }
    }
}

/// The hand-written work, once per database type (the bodies are the
/// same, the connection types differ), in uow's transaction boundaries:
/// reads in autocommit on one connection; a commit of one `UPDATE` alone
/// on a server, in `BEGIN IMMEDIATE` on SQLite.
macro_rules! handwritten {
    ($module:ident, $db:ty) => {
        mod $module {
            use super::*;
            type DbConn = <$db as sqlx::Database>::Connection;

            async fn rows(conn: &mut DbConn, sql: &Sql, rows: Rows) -> sqlx::Result<Vec<Row>> {
                let (text, key) = sql.select(rows);
                sqlx::query_as::<_, Row>(text)
                    .bind(key)
                    .fetch_all(conn)
                    .await
            }

            /// Loads `which` as aggregates would be; the number loaded.
            pub async fn load(
                pool: &sqlx::Pool<$db>,
                sql: &Sql,
                which: Rows,
            ) -> Result<usize, BoxError> {
                let mut conn = pool.acquire().await?;
                let holdings: Vec<Holding> = rows(&mut conn, sql, which)
                    .await?
                    .into_iter()
                    .map(Holding::from)
                    .collect();
                Ok(holdings.len())
            }

            /// The bytes the decoded rows of the first `n` hold.
            pub async fn memory(
                pool: &sqlx::Pool<$db>,
                sql: &Sql,
                n: usize,
            ) -> Result<isize, BoxError> {
                let mut conn = pool.acquire().await?;
                held_bytes(
                    async { Ok(rows(&mut conn, sql, Rows::First(n)).await?) },
                    drop,
                )
                .await
            }

            /// Loads the first `n` rows (untimed), changes the first, and
            /// times the commit of its version-checked `UPDATE`.
            pub async fn unchanged(
                pool: &sqlx::Pool<$db>,
                sql: &Sql,
                n: usize,
                sqlite: bool,
            ) -> Result<Duration, BoxError> {
                let mut conn = pool.acquire().await?;
                let mut holdings: Vec<Holding> = rows(&mut conn, sql, Rows::First(n))
                    .await?
                    .into_iter()
                    .map(Holding::from)
                    .collect();
                check(holdings.len(), n)?;
                let h = &mut holdings[0];
                h.balance += 1;
                h.version += 1;
                let start = Instant::now();
                if sqlite {
                    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
                    update(&mut tx, sql, &holdings[0]).await?;
                    tx.commit().await?;
                } else {
                    update(&mut conn, sql, &holdings[0]).await?;
                }
                // As uow's commit drops the unit of work with its aggregates.
                drop(holdings);
                Ok(start.elapsed())
            }

            /// The version-checked update: `h.version` is the new version.
            async fn update(conn: &mut DbConn, sql: &Sql, h: &Holding) -> Result<(), BoxError> {
                let done = sqlx::query(sql.update)
                    .bind(h.version)
                    .bind(&h.owner)
                    .bind(&h.email)
                    .bind(h.balance)
                    .bind(h.region)
                    .bind(h.district)
                    .bind(h.street)
                    .bind(h.id)
                    .bind(h.version - 1)
                    .execute(conn)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(format!("holding {} was changed by someone else", h.id).into());
                }
                Ok(())
            }
        }
    };
}

handwritten!(sqlite, sqlx::Sqlite);
handwritten!(postgres, sqlx::Postgres);
handwritten!(mysql, sqlx::MySql);

async fn hand_load(pool: &Pool, rows: Rows) -> Result<usize, BoxError> {
    match pool {
        Pool::Sqlite(p) => sqlite::load(p, &QUESTION_MARKS, rows).await,
        Pool::Postgres(p) => postgres::load(p, &POSTGRES, rows).await,
        Pool::MySql(p) => mysql::load(p, &QUESTION_MARKS, rows).await,
    }
}

async fn hand_memory(pool: &Pool, n: usize) -> Result<isize, BoxError> {
    match pool {
        Pool::Sqlite(p) => sqlite::memory(p, &QUESTION_MARKS, n).await,
        Pool::Postgres(p) => postgres::memory(p, &POSTGRES, n).await,
        Pool::MySql(p) => mysql::memory(p, &QUESTION_MARKS, n).await,
    }
}

async fn hand_unchanged(pool: &Pool, n: usize) -> Result<Duration, BoxError> {
    match pool {
        Pool::Sqlite(p) => sqlite::unchanged(p, &QUESTION_MARKS, n, true).await,
        Pool::Postgres(p) => postgres::unchanged(p, &POSTGRES, n, false).await,
        Pool::MySql(p) => mysql::unchanged(p, &QUESTION_MARKS, n, false).await,
    }
}

// ---------------------------------------------------------------------------
// Measuring

/// Samples of uow and hand-written sqlx at one size, taken in rounds
/// (one of each per round, the order alternating).
#[derive(Clone, Debug, Default)]
pub struct Pair {
    pub n: usize,
    pub uow: Vec<f64>,
    pub sqlx: Vec<f64>,
}

impl Pair {
    /// uow ÷ sqlx: the median of the per-round ratios.
    pub fn ratio(&self) -> f64 {
        let r: Vec<f64> = self
            .uow
            .iter()
            .zip(&self.sqlx)
            .map(|(u, s)| u / s)
            .collect();
        median(&r)
    }
}

/// Rows per second loading one group through a finder, a typed query and
/// hand-written sqlx, in rounds.
#[derive(Clone, Debug, Default)]
pub struct Loads {
    pub n: usize,
    pub finder: Vec<f64>,
    pub query: Vec<f64>,
    pub sqlx: Vec<f64>,
}

/// The median of the per-round ratios `a ÷ b`.
fn ratio(a: &[f64], b: &[f64]) -> f64 {
    let r: Vec<f64> = a.iter().zip(b).map(|(x, y)| x / y).collect();
    median(&r)
}

/// The curves of one database.
#[derive(Clone, Debug)]
pub struct BackendCurves {
    pub backend: Backend,
    /// Commit time (µs) with N tracked, one changed.
    pub unchanged: Vec<Pair>,
    /// Bytes held per aggregate (uow) and per decoded row (sqlx), N loaded.
    pub memory: Vec<(usize, f64, f64)>,
    /// Rows per second of loads of 100, 1,000 and 10,000 rows.
    pub loads: Vec<Loads>,
    /// Rows per second of one commit adding N.
    pub inserts: Vec<Pair>,
}

impl BackendCurves {
    /// The cost of one unchanged aggregate at `n` tracked, in ns:
    /// (T(n) − T(1)) ÷ (n − 1) over the median commit times.
    pub fn per_unchanged(&self, n: usize) -> Option<f64> {
        let t = |n: usize| {
            self.unchanged
                .iter()
                .find(|p| p.n == n)
                .map(|p| median(&p.uow))
        };
        let (tn, t1) = (t(n)?, t(1)?);
        (n > 1).then(|| (tn - t1) * 1_000.0 / (n - 1) as f64)
    }
}

/// The commit time one sample of the commit curves adds up at least (its
/// value is the mean over its commits), so that a sample of a small N is
/// not one commit of some 100 µs at the mercy of the machine's other work.
const SAMPLE: Duration = Duration::from_millis(20);
/// The most commits one sample of size `n` times: at most 50, and as
/// many as 10,000 rows loaded or added allow (one from N = 10,000 on).
fn max_commits(n: usize) -> usize {
    (10_000 / n).clamp(1, 50)
}

/// Fewer rounds for the big sizes: each takes a second or more.
fn rounds(plan: Plan, n: usize) -> usize {
    match n {
        0..=1_000 => plan.runs,
        1_001..=10_000 => plan.runs.min(5),
        _ => plan.runs.min(3),
    }
}

/// Measures the curves on `db`.
pub async fn measure(db: &Database, plan: Plan) -> Result<BackendCurves, BoxError> {
    let started = Instant::now();
    setup(db).await?;
    let name = db.backend.name();
    eprintln!(
        "{name:<18} {:<55} {:>5.1} s",
        "curves: 100,000 rows stored",
        started.elapsed().as_secs_f64()
    );
    let store = &db.store;
    let mut curves = BackendCurves {
        backend: db.backend,
        unchanged: Vec::new(),
        memory: Vec::new(),
        loads: Vec::new(),
        inserts: Vec::new(),
    };

    // Commit time against unchanged tracked aggregates, then the memory
    // they hold (one count each: it does not vary from run to run).
    for n in SIZES {
        let started = Instant::now();
        let mut pair = Pair {
            n,
            ..Pair::default()
        };
        for round in 0..plan.warmup + rounds(plan, n) {
            for k in 0..2 {
                let uow_turn = (k + round) % 2 == 0;
                let (mut timed, mut commits) = (Duration::ZERO, 0);
                while commits == 0 || (timed < SAMPLE && commits < max_commits(n)) {
                    timed += if uow_turn {
                        uow_unchanged(store, n).await?
                    } else {
                        hand_unchanged(&db.pool, n).await?
                    };
                    commits += 1;
                }
                if round >= plan.warmup {
                    let us = timed.as_secs_f64() * 1e6 / commits as f64;
                    if uow_turn {
                        pair.uow.push(us)
                    } else {
                        pair.sqlx.push(us)
                    }
                }
            }
        }
        if n >= MEMORY_FROM {
            let uow_bytes = held_bytes(
                async {
                    let mut uow = Portfolio::begin(store).await?;
                    check(uow_load(&mut uow, Rows::First(n)).await?, n)?;
                    Ok(uow)
                },
                drop,
            )
            .await?;
            let hand_bytes = hand_memory(&db.pool, n).await?;
            curves
                .memory
                .push((n, uow_bytes as f64 / n as f64, hand_bytes as f64 / n as f64));
        }
        eprintln!(
            "{name:<18} {:<55} {:>5.1} s  uow {:.0} µs  sqlx {:.0} µs",
            format!("curves: commit, {} tracked, 1 changed", thousands(n)),
            started.elapsed().as_secs_f64(),
            median(&pair.uow),
            median(&pair.sqlx),
        );
        curves.unchanged.push(pair);
    }

    // Loads through a finder, a query and hand-written sqlx.
    for size in LOAD_SIZES {
        let started = Instant::now();
        let mut loads = Loads {
            n: size,
            ..Loads::default()
        };
        for round in 0..plan.warmup + plan.runs.min(7) {
            for k in 0..3 {
                let which = (k + round) % 3;
                let rate = load_run(db, size, which, plan.run_time).await?;
                if round >= plan.warmup {
                    [&mut loads.finder, &mut loads.query, &mut loads.sqlx][which].push(rate);
                }
            }
        }
        eprintln!(
            "{name:<18} {:<55} {:>5.1} s  finder {:.0}  query {:.0}  sqlx {:.0}",
            format!("curves: load {} rows (rows/s)", thousands(size)),
            started.elapsed().as_secs_f64(),
            median(&loads.finder),
            median(&loads.query),
            median(&loads.sqlx),
        );
        curves.loads.push(loads);
    }

    // One commit adding N.
    for n in SIZES {
        let started = Instant::now();
        let mut pair = Pair {
            n,
            ..Pair::default()
        };
        for round in 0..plan.warmup + rounds(plan, n) {
            for k in 0..2 {
                let uow_turn = (k + round) % 2 == 0;
                let (mut timed, mut commits) = (Duration::ZERO, 0);
                while commits == 0 || (timed < SAMPLE && commits < max_commits(n)) {
                    let accounts: Vec<_> =
                        (0..n as i64).map(|i| account(INSERTED_FROM + i)).collect();
                    let start = Instant::now();
                    if uow_turn {
                        crate::uow::insert(store, accounts).await?;
                    } else {
                        db.hand.insert(accounts, true).await?;
                    }
                    timed += start.elapsed();
                    db.delete_inserted().await?;
                    commits += 1;
                }
                let rate = (n * commits) as f64 / timed.as_secs_f64();
                if round >= plan.warmup {
                    if uow_turn {
                        pair.uow.push(rate)
                    } else {
                        pair.sqlx.push(rate)
                    }
                }
            }
        }
        eprintln!(
            "{name:<18} {:<55} {:>5.1} s  uow {:.0}  sqlx {:.0}",
            format!("curves: one commit adding {} (rows/s)", thousands(n)),
            started.elapsed().as_secs_f64(),
            median(&pair.uow),
            median(&pair.sqlx),
        );
        curves.inserts.push(pair);
    }
    db.execute("DROP TABLE IF EXISTS bench_holdings").await?;
    Ok(curves)
}

/// One run of a load: as many loads of `size` rows as fit in `run_time`
/// (at least one); rows per second. `which`: 0 finder, 1 query, 2 sqlx.
async fn load_run(
    db: &Database,
    size: usize,
    which: usize,
    run_time: Duration,
) -> Result<f64, BoxError> {
    let start = Instant::now();
    let mut k = 0;
    loop {
        let rows = Rows::group(size, k);
        let Rows::Group { key, .. } = rows else {
            unreachable!("a group")
        };
        let loaded = match which {
            0 => {
                let mut uow = Portfolio::begin(&db.store).await?;
                uow_load(&mut uow, rows).await?
            }
            1 => {
                let mut uow = Portfolio::begin(&db.store).await?;
                uow_query(&mut uow, size, key).await?
            }
            _ => hand_load(&db.pool, rows).await?,
        };
        check(loaded, size)?;
        k += 1;
        let elapsed = start.elapsed();
        if elapsed >= run_time {
            return Ok((k * size) as f64 / elapsed.as_secs_f64());
        }
    }
}

// ---------------------------------------------------------------------------
// Reporting

/// How `BENCHMARKS.md` links to the charts.
pub struct Plots {
    /// Their directory, relative to the Markdown file's where it can be.
    pub link: String,
}

const ALL_CHARTS: [&str; 5] = [
    "unchanged-commit",
    "unchanged-per-aggregate",
    "memory",
    "load",
    "insert",
];

fn color(b: Backend) -> usize {
    Backend::ALL.iter().position(|x| *x == b).unwrap_or(0)
}

fn charts(curves: &[BackendCurves]) -> Vec<(&'static str, Chart)> {
    let mut unchanged = Vec::new();
    let mut per = Vec::new();
    let mut memory = Vec::new();
    let mut load = Vec::new();
    let mut insert = Vec::new();
    for c in curves {
        let name = c.backend.name();
        let series = |label: String, points: Vec<(f64, f64)>, dashed: bool| Series {
            label,
            points,
            color: color(c.backend),
            dashed,
        };
        let med = |p: &Pair, uow: bool| median(if uow { &p.uow } else { &p.sqlx });
        unchanged.push(series(
            format!("uow, {name}"),
            c.unchanged
                .iter()
                .map(|p| (p.n as f64, med(p, true)))
                .collect(),
            false,
        ));
        unchanged.push(series(
            format!("sqlx, {name}"),
            c.unchanged
                .iter()
                .map(|p| (p.n as f64, med(p, false)))
                .collect(),
            true,
        ));
        // Commit time ÷ N: the fixed part spread over N, falling towards
        // what each tracked aggregate costs.
        per.push(series(
            format!("uow, {name}"),
            c.unchanged
                .iter()
                .map(|p| (p.n as f64, med(p, true) * 1_000.0 / p.n as f64))
                .collect(),
            false,
        ));
        per.push(series(
            format!("sqlx, {name}"),
            c.unchanged
                .iter()
                .map(|p| (p.n as f64, med(p, false) * 1_000.0 / p.n as f64))
                .collect(),
            true,
        ));
        memory.push(series(
            format!("uow, {name}"),
            c.memory.iter().map(|m| (m.0 as f64, m.1)).collect(),
            false,
        ));
        memory.push(series(
            format!("sqlx rows, {name}"),
            c.memory.iter().map(|m| (m.0 as f64, m.2)).collect(),
            true,
        ));
        load.push(series(
            format!("finder, {name}"),
            c.loads
                .iter()
                .map(|l| (l.n as f64, median(&l.finder)))
                .collect(),
            false,
        ));
        load.push(series(
            format!("sqlx, {name}"),
            c.loads
                .iter()
                .map(|l| (l.n as f64, median(&l.sqlx)))
                .collect(),
            true,
        ));
        insert.push(series(
            format!("uow, {name}"),
            c.inserts
                .iter()
                .map(|p| (p.n as f64, med(p, true)))
                .collect(),
            false,
        ));
        insert.push(series(
            format!("sqlx, {name}"),
            c.inserts
                .iter()
                .map(|p| (p.n as f64, med(p, false)))
                .collect(),
            true,
        ));
    }
    per.push(Series {
        label: "target: 500 ns".to_owned(),
        points: SIZES.iter().map(|&n| (n as f64, 500.0)).collect(),
        color: 4,
        dashed: true,
    });
    let chart = |title: &str, x: &str, y: &str, log_y: bool, series| Chart {
        title: title.to_owned(),
        x_label: x.to_owned(),
        y_label: y.to_owned(),
        log_y,
        series,
    };
    vec![
        (
            ALL_CHARTS[0],
            chart(
                "Commit time, one aggregate changed, N tracked (solid: uow, dashed: sqlx)",
                "aggregates tracked (N)",
                "commit time, µs",
                true,
                unchanged,
            ),
        ),
        (
            ALL_CHARTS[1],
            chart(
                "Commit time ÷ N tracked (solid: uow, dashed: sqlx)",
                "aggregates tracked (N)",
                "ns per tracked aggregate",
                true,
                per,
            ),
        ),
        (
            ALL_CHARTS[2],
            chart(
                "Memory held per loaded aggregate (solid: uow, dashed: sqlx rows)",
                "aggregates loaded (N)",
                "bytes per aggregate",
                true,
                memory,
            ),
        ),
        (
            ALL_CHARTS[3],
            chart(
                "Loading N rows through a finder (solid) and hand-written sqlx (dashed)",
                "rows per load (N)",
                "rows per second",
                false,
                load,
            ),
        ),
        (
            ALL_CHARTS[4],
            chart(
                "One commit adding N aggregates (solid: uow, dashed: sqlx multi-row INSERT)",
                "aggregates added (N)",
                "rows per second",
                true,
                insert,
            ),
        ),
    ]
}

/// Writes the charts into `dir` (nothing without curves).
pub fn write_plots(curves: &[BackendCurves], dir: &Path) -> std::io::Result<()> {
    if curves.is_empty() {
        return Ok(());
    }
    std::fs::create_dir_all(dir)?;
    for (name, chart) in charts(curves) {
        std::fs::write(dir.join(format!("{name}.svg")), chart.to_svg())?;
    }
    Ok(())
}

fn us(x: f64) -> String {
    if !x.is_finite() {
        "–".to_owned()
    } else if x >= 100.0 {
        thousands(x.round() as usize)
    } else {
        format!("{x:.1}")
    }
}

fn rate(x: f64) -> String {
    if x.is_finite() {
        thousands(x.round() as usize)
    } else {
        "–".to_owned()
    }
}

fn header(out: &mut String, first: &str, curves: &[BackendCurves], per: &[&str]) {
    let mut cols = vec![first.to_owned()];
    for c in curves {
        for p in per {
            cols.push(format!("{} {p}", c.backend.name()));
        }
    }
    let _ = writeln!(out, "| {} |", cols.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(cols.len()));
}

/// The scale-curve section of `BENCHMARKS.md`.
pub fn render(out: &mut String, curves: &[BackendCurves], plots: &Plots) {
    if curves.is_empty() {
        return;
    }
    let img = |name: &str, alt: &str| format!("![{alt}]({}/{name}.svg)\n", plots.link);
    let _ = writeln!(
        out,
        "## Scale curves\n\n\
         How uow's cost grows with the size of the work (`--benches curves`), against the same work in\n\
         hand-written sqlx, in rounds (uow and sqlx adjacent in time, the order alternating). The work\n\
         runs on a table of its own, `bench_holdings` (the columns of `bench_accounts` and three\n\
         `#[aggregate(find_by)]` columns grouping the rows by 10,000, 1,000 and 100), of 100,000 rows.\n\
         Rounds: as for the tables above up to N = 1,000, at most 5 for N = 10,000 and 3 for\n\
         N = 100,000; one sample of a commit curve is the mean over as many commits as add up to 20 ms\n\
         of timed commit (at most 50, and from N = 10,000 on one). The charts are written by the benchmark next to this file (`{}/`).\n",
        plots.link
    );

    let _ = writeln!(
        out,
        "### Commit time against aggregates tracked but unchanged\n\n\
         A unit of work loads the first N holdings (`list(N)`, untimed), changes one, and commits (timed).\n\
         Hand-written sqlx loads the same N rows into structs and sends the same version-checked `UPDATE`\n\
         (alone in autocommit on a server, in `BEGIN IMMEDIATE` on SQLite): its commit does not depend on\n\
         N. uow's commit compares every tracked aggregate with its snapshot, and drops them all with the\n\
         unit of work (as the hand-written code drops its rows, inside the timed part). Below: the commit\n\
         time divided by N (the fixed part spread over N, falling towards what one tracked aggregate\n\
         costs), and from N = 10,000 the cost of one unchanged aggregate, (T(N) − T(1)) ÷ (N − 1) over\n\
         the median commit times, which the target checks (for smaller N the difference is within the\n\
         run-to-run noise of a commit of a few hundred µs on a shared machine).\n\n\
         {}",
        img(ALL_CHARTS[0], "commit time against aggregates tracked")
    );
    header(out, "N tracked", curves, &["uow µs", "sqlx µs"]);
    for (i, n) in SIZES.iter().enumerate() {
        let mut row = vec![thousands(*n)];
        for c in curves {
            match c.unchanged.get(i) {
                Some(p) => {
                    row.push(format!("**{}**", us(median(&p.uow))));
                    row.push(us(median(&p.sqlx)));
                }
                None => row.extend(["–".to_owned(), "–".to_owned()]),
            }
        }
        let _ = writeln!(out, "| {} |", row.join(" | "));
    }
    let _ = writeln!(
        out,
        "\n{}",
        img(ALL_CHARTS[1], "commit time per tracked aggregate")
    );
    header(
        out,
        "N tracked",
        curves,
        &["uow ns ÷ N", "sqlx ns ÷ N", "uow ns per unchanged"],
    );
    for (i, n) in SIZES.iter().enumerate() {
        let mut row = vec![thousands(*n)];
        for c in curves {
            match c.unchanged.get(i) {
                Some(p) => {
                    row.push(format!("{:.0}", median(&p.uow) * 1_000.0 / *n as f64));
                    row.push(format!("{:.0}", median(&p.sqlx) * 1_000.0 / *n as f64));
                }
                None => row.extend(["–".to_owned(), "–".to_owned()]),
            }
            row.push(match c.per_unchanged(*n) {
                Some(ns) if *n >= 10_000 => format!("**{ns:.0}**"),
                _ => "–".to_owned(),
            });
        }
        let _ = writeln!(out, "| {} |", row.join(" | "));
    }

    let _ = writeln!(
        out,
        "\n### Memory per tracked aggregate\n\n\
         Bytes allocated and still live with N aggregates loaded into a unit of work (`list(N)`), counted\n\
         by the benchmark's global allocator as what dropping the unit of work frees, divided by N: the\n\
         aggregates, their snapshots (the stored row each is compared with at commit) and the identity\n\
         map. Against it, the hand-written rows: the `Vec` of decoded tuples\n\
         `(i64, i64, String, String, i64, i64, i64, i64)` of the same `SELECT` ({} bytes each plus the\n\
         two strings). From N = 100: below, the unit of work's fixed part (a few hundred bytes) and what\n\
         other tasks free meanwhile outweigh the aggregates.\n\n\
         {}",
        std::mem::size_of::<Row>(),
        img(ALL_CHARTS[2], "memory per tracked aggregate")
    );
    header(out, "N loaded", curves, &["uow B", "sqlx B", "uow ÷ sqlx"]);
    for n in SIZES.iter().filter(|n| **n >= MEMORY_FROM) {
        let mut row = vec![thousands(*n)];
        for c in curves {
            match c.memory.iter().find(|m| m.0 == *n) {
                Some(&(_, u, s)) => {
                    row.push(format!("**{u:.0}**"));
                    row.push(format!("{s:.0}"));
                    row.push(format!("{:.2}×", u / s));
                }
                None => row.extend(["–".to_owned(), "–".to_owned(), "–".to_owned()]),
            }
        }
        let _ = writeln!(out, "| {} |", row.join(" | "));
    }

    let _ = writeln!(
        out,
        "\n### Loading N aggregates through a finder and a typed query (rows/s)\n\n\
         Each operation: a unit of work loads one group of N holdings through a generated finder\n\
         (`find_by_region` for 10,000 rows, `find_by_district` for 1,000, `find_by_street` for 100), or\n\
         through the typed query `query().filter(|h| h.region.eq(key)).all()`; hand-written sqlx sends\n\
         `SELECT ... WHERE region = ? ORDER BY id` (the finder's statement) and decodes the rows into\n\
         structs. uow also snapshots and tracks every aggregate. Rows per second, median of the runs; the\n\
         ratios are medians of per-round ratios. The 10,000-row loads are the issue's row.\n\n\
         {}\n\
         | database | N | finder | typed query | sqlx (hand-written) | finder ÷ sqlx | query ÷ sqlx |\n\
         |---|---|---|---|---|---|---|",
        img(ALL_CHARTS[3], "rows per second loading N rows")
    );
    for c in curves {
        for l in &c.loads {
            let _ = writeln!(
                out,
                "| {} | {} | **{}** | **{}** | {} | {:.2}× | {:.2}× |",
                c.backend.name(),
                thousands(l.n),
                rate(median(&l.finder)),
                rate(median(&l.query)),
                rate(median(&l.sqlx)),
                ratio(&l.finder, &l.sqlx),
                ratio(&l.query, &l.sqlx),
            );
        }
    }

    let _ = writeln!(
        out,
        "\n### One commit adding N aggregates (rows/s)\n\n\
         As (3), for N = 1 to 100,000: uow's unit of work (begin, add, commit) against hand-written\n\
         multi-row `INSERT`s of 1,000 rows in one transaction, on `bench_accounts`; the rows are deleted\n\
         after each commit (untimed).\n\n\
         {}",
        img(ALL_CHARTS[4], "rows per second of one commit adding N")
    );
    header(out, "N added", curves, &["uow", "sqlx", "uow ÷ sqlx"]);
    for (i, n) in SIZES.iter().enumerate() {
        let mut row = vec![thousands(*n)];
        for c in curves {
            match c.inserts.get(i) {
                Some(p) => {
                    row.push(format!("**{}**", rate(median(&p.uow))));
                    row.push(rate(median(&p.sqlx)));
                    row.push(format!("{:.2}×", p.ratio()));
                }
                None => row.extend(["–".to_owned(), "–".to_owned(), "–".to_owned()]),
            }
        }
        let _ = writeln!(out, "| {} |", row.join(" | "));
    }
    let _ = writeln!(out);
}

/// The targets the curves check: (rule, case, value, met).
pub fn targets(curves: &[BackendCurves]) -> Vec<(String, String, String, bool)> {
    curves
        .iter()
        .filter_map(|c| {
            let ns = c.per_unchanged(100_000)?;
            Some((
                "an unchanged tracked aggregate costs ≤ 0.5 µs at commit, 100,000 tracked"
                    .to_owned(),
                c.backend.name().to_owned(),
                format!("{:.3} µs", ns / 1_000.0),
                ns <= 500.0,
            ))
        })
        .collect()
}
