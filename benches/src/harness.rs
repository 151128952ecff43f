//! Running the benchmarks: for each (database, benchmark), every
//! implementation in turn, the order rotated from run to run, a warm-up run
//! first; one number per run (operations or rows per second).

use std::time::{Duration, Instant};

use uow_core::InMemoryStore;

use crate::backends::{Backend, Database};
use crate::handwritten::{BoxError, Writes};
use crate::model::{Account, INSERTED_FROM, Ledger, SEEDED, account};
use crate::seaorm::SeaOrm;
use crate::{children, uow};

/// A benchmark of the list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bench {
    /// (1) Load one aggregate by id inside a unit of work.
    Load,
    /// (2) Begin, load, change, commit with the version check.
    Deposit,
    /// (3) One commit adding N new aggregates.
    Insert(usize),
    /// (4) One commit changing N loaded aggregates.
    Update(usize),
    /// (7) A keyset page of 50 through a typed query.
    Page,
    /// (8) Load one product with 10 batches × 10 allocations (three tables).
    ChildLoad,
    /// (9) Load that product, change one allocation, commit.
    ChildChange,
    /// (10) (2) with uow's commit markers on, against a hand-written marker
    /// row ([`crate::features`]).
    Outcome,
    /// (11) A new message handled once through the inbox.
    Inbox,
    /// (12) A message the inbox already handled.
    InboxRepeat,
}

impl Bench {
    pub fn title(self) -> String {
        match self {
            Bench::Load => "(1) load one aggregate by id in a unit of work".to_owned(),
            Bench::Deposit => "(2) business operation: begin, load, change, commit".to_owned(),
            Bench::Insert(n) => format!("(3) one commit adding N = {} aggregates", thousands(n)),
            Bench::Update(n) => {
                format!(
                    "(4) one commit changing N = {} loaded aggregates",
                    thousands(n)
                )
            }
            Bench::Page => "(7) a keyset page of 50 (filter, order, cursor)".to_owned(),
            Bench::ChildLoad => {
                "(8) load one product with 10 batches × 10 allocations (child tables)".to_owned()
            }
            Bench::ChildChange => {
                "(9) change one allocation of that product: begin, load, change, commit".to_owned()
            }
            Bench::Outcome => "(10) commit-outcome check: (2) with a commit marker".to_owned(),
            Bench::Inbox => "(11) inbox: a new message handled once, (2) its effect".to_owned(),
            Bench::InboxRepeat => "(12) inbox: a message already handled".to_owned(),
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Bench::Load => "load",
            Bench::Deposit => "deposit",
            Bench::Insert(_) => "insert",
            Bench::Update(_) => "update",
            Bench::Page => "page",
            Bench::ChildLoad => "child-load",
            Bench::ChildChange => "child-change",
            Bench::Outcome => "outcome",
            Bench::Inbox => "inbox",
            Bench::InboxRepeat => "inbox-repeat",
        }
    }

    /// Rows per operation for bulk benchmarks (reported as rows/s).
    pub fn rows(self) -> Option<usize> {
        match self {
            Bench::Insert(n) | Bench::Update(n) => Some(n),
            _ => None,
        }
    }

    pub fn unit(self) -> &'static str {
        if self.rows().is_some() {
            "rows/s"
        } else {
            "ops/s"
        }
    }
}

/// One way of doing the work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Imp {
    /// uow on the database.
    Uow,
    /// Hand-written sqlx (multi-row `INSERT` for (3)).
    Sqlx,
    /// Hand-written sqlx, one statement per row.
    SqlxRowByRow,
    /// Hand-written sqlx, the best batched version-checked `UPDATE` of the
    /// database ((4); see `handwritten::batched`).
    SqlxBatch,
    /// Hand-written sqlx as a user writes it without uow: `pool.begin()`,
    /// the statements, `commit()` ((1) and (2)).
    SqlxPlain,
    /// SeaORM.
    SeaOrm,
    /// uow on the in-memory store.
    InMemory,
    /// uow with its commit markers on (`SqlxStore::with_commit_markers(true)`).
    UowMarkers,
    /// uow with its commit markers off: against [`Imp::UowMarkers`], what
    /// the outcome check costs.
    UowNoMarkers,
}

impl Imp {
    pub fn name(self) -> &'static str {
        match self {
            Imp::Uow => "uow",
            Imp::Sqlx => "sqlx (hand-written)",
            Imp::SqlxRowByRow => "sqlx, one statement per row",
            Imp::SqlxBatch => "sqlx, batched version-checked UPDATE",
            Imp::SqlxPlain => "sqlx, plain transaction",
            Imp::SeaOrm => "SeaORM",
            Imp::InMemory => "uow in-memory store",
            Imp::UowMarkers => "uow, commit markers on",
            Imp::UowNoMarkers => "uow, commit markers off",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Imp::Uow => "uow",
            Imp::Sqlx => "sqlx",
            Imp::SqlxRowByRow => "sqlx-row",
            Imp::SqlxBatch => "sqlx-batch",
            Imp::SqlxPlain => "sqlx-plain",
            Imp::SeaOrm => "seaorm",
            Imp::InMemory => "memory",
            Imp::UowMarkers => "uow-markers",
            Imp::UowNoMarkers => "uow-nomarkers",
        }
    }

    pub fn parse(key: &str) -> Option<Imp> {
        [
            Imp::Uow,
            Imp::Sqlx,
            Imp::SqlxRowByRow,
            Imp::SqlxBatch,
            Imp::SqlxPlain,
            Imp::SeaOrm,
            Imp::InMemory,
            Imp::UowMarkers,
            Imp::UowNoMarkers,
        ]
        .into_iter()
        .find(|i| i.key() == key)
    }
}

/// The implementations measured for a benchmark on a database.
pub fn implementations(bench: Bench, backend: Backend) -> Vec<Imp> {
    let mut imps = match bench {
        Bench::Load => vec![Imp::Uow, Imp::Sqlx, Imp::SqlxPlain, Imp::SeaOrm],
        // (6): the same deposit with the commit markers off, interleaved.
        Bench::Deposit => vec![
            Imp::Uow,
            Imp::Sqlx,
            Imp::SqlxPlain,
            Imp::SeaOrm,
            Imp::UowMarkers,
            Imp::UowNoMarkers,
        ],
        Bench::Insert(_) => vec![Imp::Uow, Imp::Sqlx, Imp::SqlxRowByRow, Imp::SeaOrm],
        Bench::Update(_) => vec![Imp::Uow, Imp::SqlxBatch, Imp::SqlxRowByRow, Imp::SeaOrm],
        Bench::Page => vec![Imp::Uow, Imp::Sqlx],
        // (8), (9): uow against the same statements written by hand.
        Bench::ChildLoad | Bench::ChildChange => return vec![Imp::Uow, Imp::Sqlx],
        Bench::Outcome | Bench::Inbox | Bench::InboxRepeat => {
            return crate::features::implementations(bench, backend);
        }
    };
    // (5): the in-memory store, interleaved with the same work on SQLite in
    // memory.
    if backend == Backend::SqliteMemory {
        imps.push(Imp::InMemory);
    }
    imps
}

/// The most commits one run of (3) or (4) times.
const MAX_COMMITS: u64 = 30;

/// How long and how often to measure.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    pub warmup: usize,
    pub runs: usize,
    /// The length of one run of a latency benchmark (1, 2).
    pub run_time: Duration,
}

/// The runs of one implementation.
#[derive(Clone, Debug)]
pub struct Measurement {
    pub imp: Imp,
    /// Per run: operations (or rows) per second.
    pub samples: Vec<f64>,
    /// uow only: statements sent per operation.
    pub statements: Option<f64>,
    /// uow only: round trips (statements, `BEGIN`, `COMMIT`) per operation.
    pub round_trips: Option<f64>,
}

impl Measurement {
    pub fn median(&self) -> f64 {
        median(&self.samples)
    }

    pub fn min(&self) -> f64 {
        self.samples.iter().copied().fold(f64::INFINITY, f64::min)
    }

    pub fn max(&self) -> f64 {
        self.samples
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max)
    }
}

/// The results of one benchmark on one database.
#[derive(Clone, Debug)]
pub struct Group {
    pub bench: Bench,
    pub backend: Backend,
    pub measurements: Vec<Measurement>,
}

impl Group {
    pub fn get(&self, imp: Imp) -> Option<&Measurement> {
        self.measurements.iter().find(|m| m.imp == imp)
    }

    /// `a` ÷ `b`: the median of the per-round ratios. The runs of one round
    /// are adjacent in time, so the ratio of a round cancels what the
    /// machine's other work did to both.
    pub fn ratio(&self, a: Imp, b: Imp) -> Option<f64> {
        let (a, b) = (self.get(a)?, self.get(b)?);
        let ratios: Vec<f64> = a
            .samples
            .iter()
            .zip(&b.samples)
            .map(|(x, y)| x / y)
            .collect();
        Some(median(&ratios))
    }
}

/// Everything one database needs to run the benchmarks.
pub struct Subject<'a> {
    pub db: &'a Database,
    pub sea: &'a SeaOrm,
    /// The in-memory store of (5), seeded like the database.
    pub memory: InMemoryStore,
    /// (7): the cursors of the pages after the first, each with the
    /// position it stands for (balance, id), filled on first use.
    pub cursors: Vec<(uow_core::Cursor, (i64, i64))>,
}

impl Subject<'_> {
    /// Runs `bench` with every implementation, interleaved.
    pub async fn measure(
        &mut self,
        bench: Bench,
        imps: &[Imp],
        plan: Plan,
    ) -> Result<Group, BoxError> {
        let mut measurements: Vec<Measurement> = imps
            .iter()
            .map(|&imp| Measurement {
                imp,
                samples: Vec::new(),
                statements: None,
                round_trips: None,
            })
            .collect();
        for run in 0..plan.warmup + plan.runs {
            for k in 0..imps.len() {
                let i = (k + run) % imps.len();
                let imp = imps[i];
                let before = self.db.statements_executed();
                let trips_before = self.db.round_trips();
                let (per_second, ops) = self.run_once(bench, imp, plan).await?;
                if run >= plan.warmup {
                    measurements[i].samples.push(per_second);
                    if matches!(imp, Imp::Uow | Imp::UowMarkers | Imp::UowNoMarkers) {
                        let sent = self.db.statements_executed() - before;
                        measurements[i].statements = Some(sent as f64 / ops as f64);
                        let trips = self.db.round_trips() - trips_before;
                        measurements[i].round_trips = Some(trips as f64 / ops as f64);
                    }
                }
            }
        }
        Ok(Group {
            bench,
            backend: self.db.backend,
            measurements,
        })
    }

    /// One run; returns (operations or rows per second, operations).
    pub async fn run_once(
        &mut self,
        bench: Bench,
        imp: Imp,
        plan: Plan,
    ) -> Result<(f64, u64), BoxError> {
        match bench {
            Bench::Load => self.latency(imp, plan.run_time, false).await,
            Bench::Deposit => self.latency(imp, plan.run_time, true).await,
            Bench::Insert(_) | Bench::Update(_) => self.bulk(bench, imp, plan.run_time).await,
            Bench::Page => self.pages(imp, plan.run_time).await,
            Bench::ChildLoad => self.child_latency(imp, plan.run_time, false).await,
            Bench::ChildChange => self.child_latency(imp, plan.run_time, true).await,
            Bench::Outcome | Bench::Inbox | Bench::InboxRepeat => {
                crate::features::run(self.db, bench, imp, plan.run_time).await
            }
        }
    }

    /// (7): as many pages as fit in `run_time`, one after the other, each
    /// starting at the next of the cursors of the seeded data.
    async fn pages(&mut self, imp: Imp, run_time: Duration) -> Result<(f64, u64), BoxError> {
        if self.cursors.is_empty() {
            self.cursors = uow::page_cursors(&self.db.store).await?;
        }
        let start = Instant::now();
        let mut k: usize = 0;
        loop {
            let (cursor, position) = &self.cursors[k % self.cursors.len()];
            let rows = match imp {
                Imp::Uow => uow::page(&self.db.store, Some(cursor)).await?,
                Imp::InMemory => uow::page(&self.memory, Some(cursor)).await?,
                _ => self.db.hand.page(*position).await?,
            };
            if rows != 50 {
                return Err(format!("a page of {rows} rows, not 50").into());
            }
            k += 1;
            let elapsed = start.elapsed();
            if elapsed >= run_time {
                return Ok((k as f64 / elapsed.as_secs_f64(), k as u64));
            }
        }
    }

    /// (8) and (9): as many operations as fit in `run_time`, each on the
    /// next of the stored products.
    async fn child_latency(
        &mut self,
        imp: Imp,
        run_time: Duration,
        change: bool,
    ) -> Result<(f64, u64), BoxError> {
        let start = Instant::now();
        let mut k: usize = 0;
        loop {
            let n = k * 37;
            match (imp, change) {
                (Imp::Sqlx, _) => children::handwritten(&self.db.pool, n, change).await?,
                (_, false) => drop(children::uow_load(&self.db.store, n).await?),
                (_, true) => children::uow_change(&self.db.store, n).await?,
            }
            k += 1;
            let elapsed = start.elapsed();
            if elapsed >= run_time {
                return Ok((k as f64 / elapsed.as_secs_f64(), k as u64));
            }
        }
    }

    /// (1) and (2): as many operations as fit in `run_time`, one after the
    /// other, each on the next of the seeded ids.
    async fn latency(
        &mut self,
        imp: Imp,
        run_time: Duration,
        write: bool,
    ) -> Result<(f64, u64), BoxError> {
        let start = Instant::now();
        let mut k: u64 = 0;
        loop {
            let id = (k as i64 * 7_919) % SEEDED + 1;
            self.operation(imp, write, id).await?;
            k += 1;
            let elapsed = start.elapsed();
            if elapsed >= run_time {
                return Ok((k as f64 / elapsed.as_secs_f64(), k));
            }
        }
    }

    /// One operation of (1) (`write == false`) or (2).
    async fn operation(&self, imp: Imp, write: bool, id: i64) -> Result<(), BoxError> {
        let (db, sea, memory) = (self.db, self.sea, &self.memory);
        match (imp, write) {
            (Imp::Uow, false) => drop(uow::load(&db.store, id).await?),
            (Imp::Uow, true) => uow::deposit(&db.store, id).await?,
            (Imp::InMemory, false) => drop(uow::load(memory, id).await?),
            (Imp::InMemory, true) => uow::deposit(memory, id).await?,
            (Imp::UowMarkers, false) => drop(uow::load(&db.marked, id).await?),
            (Imp::UowMarkers, true) => uow::deposit(&db.marked, id).await?,
            (Imp::UowNoMarkers, false) => drop(uow::load(&db.unmarked, id).await?),
            (Imp::UowNoMarkers, true) => uow::deposit(&db.unmarked, id).await?,
            (Imp::Sqlx | Imp::SqlxRowByRow | Imp::SqlxBatch, false) => {
                drop(db.hand.load(id).await?)
            }
            (Imp::Sqlx | Imp::SqlxRowByRow | Imp::SqlxBatch, true) => db.hand.deposit(id).await?,
            (Imp::SqlxPlain, false) => drop(db.hand.load_plain(id).await?),
            (Imp::SqlxPlain, true) => db.hand.deposit_plain(id).await?,
            (Imp::SeaOrm, false) => drop(sea.load(id).await?),
            (Imp::SeaOrm, true) => sea.deposit(id).await?,
        }
        Ok(())
    }

    /// (3) and (4): commits, each with its untimed set-up and clean-up,
    /// until half of `run_time` was timed (at least one, at most
    /// [`MAX_COMMITS`]); (rows per timed second, commits).
    async fn bulk(
        &mut self,
        bench: Bench,
        imp: Imp,
        run_time: Duration,
    ) -> Result<(f64, u64), BoxError> {
        let mut timed = Duration::ZERO;
        let mut rows = 0;
        let mut commits = 0;
        while commits == 0 || (timed < run_time / 2 && commits < MAX_COMMITS) {
            timed += match bench {
                Bench::Insert(n) => self.insert(imp, n).await?,
                Bench::Update(n) => self.update(imp, n).await?,
                _ => unreachable!("not a bulk benchmark"),
            };
            rows += bench.rows().unwrap_or(0);
            commits += 1;
        }
        Ok((rows as f64 / timed.as_secs_f64(), commits))
    }

    /// (3): builds the aggregates, then times one unit of work adding them;
    /// deletes them again afterwards.
    async fn insert(&mut self, imp: Imp, n: usize) -> Result<Duration, BoxError> {
        let accounts: Vec<Account> = (0..n as i64).map(|i| account(INSERTED_FROM + i)).collect();
        let start = Instant::now();
        match imp {
            Imp::Uow => uow::insert(&self.db.store, accounts).await?,
            Imp::UowMarkers => uow::insert(&self.db.marked, accounts).await?,
            Imp::UowNoMarkers => uow::insert(&self.db.unmarked, accounts).await?,
            Imp::InMemory => uow::insert(&self.memory, accounts).await?,
            Imp::Sqlx | Imp::SqlxPlain | Imp::SqlxBatch => {
                self.db.hand.insert(accounts, true).await?
            }
            Imp::SqlxRowByRow => self.db.hand.insert(accounts, false).await?,
            Imp::SeaOrm => self.sea.insert(accounts).await?,
        }
        let elapsed = start.elapsed();
        if imp == Imp::InMemory {
            self.memory = seeded_memory_store().await?;
        } else {
            self.db.delete_inserted().await?;
        }
        Ok(elapsed)
    }

    /// (4): loads the first `n` aggregates and changes each (not timed),
    /// then times the commit.
    async fn update(&mut self, imp: Imp, n: usize) -> Result<Duration, BoxError> {
        Ok(match imp {
            Imp::Uow | Imp::UowMarkers | Imp::UowNoMarkers | Imp::InMemory => {
                if imp != Imp::InMemory {
                    let store = match imp {
                        Imp::UowMarkers => &self.db.marked,
                        Imp::UowNoMarkers => &self.db.unmarked,
                        _ => &self.db.store,
                    };
                    let uow = uow::load_first(store, n as u64).await?;
                    let start = Instant::now();
                    uow.commit().await?;
                    start.elapsed()
                } else {
                    let uow = uow::load_first(&self.memory, n as u64).await?;
                    let start = Instant::now();
                    uow.commit().await?;
                    start.elapsed()
                }
            }
            Imp::Sqlx | Imp::SqlxRowByRow | Imp::SqlxPlain | Imp::SqlxBatch => {
                let (session, mut accounts) = self.db.hand.load_first(n as i64).await?;
                for a in &mut accounts {
                    a.balance += 1;
                    a.version += 1;
                }
                let start = Instant::now();
                let writes = if imp == Imp::SqlxBatch {
                    Writes::UpdateBatched(&accounts)
                } else {
                    Writes::UpdateEach(&accounts)
                };
                self.db.hand.commit(session, writes).await?;
                // As uow's commit drops the unit of work with its aggregates.
                drop(accounts);
                start.elapsed()
            }
            Imp::SeaOrm => {
                let (session, changes) = self.sea.load_first(n as u64).await?;
                let start = Instant::now();
                self.sea.update_each(session, changes).await?;
                start.elapsed()
            }
        })
    }
}

/// The median of `samples` (NaN for none).
pub fn median(samples: &[f64]) -> f64 {
    let mut s = samples.to_vec();
    s.sort_by(f64::total_cmp);
    match s.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    }
}

/// An in-memory store holding the seeded accounts.
pub async fn seeded_memory_store() -> Result<InMemoryStore, uow_core::Error> {
    let store = InMemoryStore::new();
    let mut uow = Ledger::begin(&store).await?;
    for id in 1..=SEEDED {
        uow.accounts.add(account(id))?;
    }
    uow.commit().await?;
    debug_assert_eq!(store.count::<Account>(), SEEDED as usize);
    Ok(store)
}

/// `12345` → `12,345`.
pub fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
