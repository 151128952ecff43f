//! Faults: whatever fails while a unit of work runs — its connection killed
//! by the server while it is open or while it commits, its commit cancelled
//! half-way, the pool exhausted, a panic — nothing of the unit of work is
//! stored, the caller gets a typed error (or the panic), never a hang, and
//! the next unit of work on the same store succeeds.
//!
//! Killing a connection needs a server (PostgreSQL's `pg_terminate_backend`,
//! MariaDB/MySQL's `KILL`), so those scenarios run on the server backends;
//! the others run on SQLite too.

use std::future::Future;
use std::time::{Duration, Instant};

use sqlx::{AssertSqlSafe, Connection, Executor, MySqlConnection, PgConnection};
use uow_core::{CommitOutcome, Error, Store, TimeoutKind, UnitId};
use uow_sqlx::{Dialect, SqlxStore, StoreOptions};
use uow_tests::backends::{self, Backend};
use uow_tests::bank::{Account, AccountId, Bank, TABLES};
use uow_tests::raw_sql;

/// A SQL backend whose stores can be made with chosen options.
trait Sql: Backend<Store = SqlxStore> {
    fn empty_with(options: StoreOptions) -> impl Future<Output = Option<SqlxStore>>;
}

impl Sql for backends::Sqlite {
    fn empty_with(options: StoreOptions) -> impl Future<Output = Option<SqlxStore>> {
        backends::Sqlite::empty_with(options)
    }
}

impl Sql for backends::Postgres {
    fn empty_with(options: StoreOptions) -> impl Future<Output = Option<SqlxStore>> {
        backends::Postgres::empty_with(options)
    }
}

impl Sql for backends::MySql {
    fn empty_with(options: StoreOptions) -> impl Future<Output = Option<SqlxStore>> {
        backends::MySql::empty_with(options)
    }
}

/// A fresh store with the bank's tables and `options`.
async fn store_with<B: Sql>(options: StoreOptions) -> Option<SqlxStore> {
    let store = B::empty_with(options).await?;
    store.create_tables(TABLES).await.expect("create tables");
    Some(store)
}

/// A fresh store whose pool holds a single connection: every unit of work
/// runs on it, so it is the one to kill.
async fn single_connection<B: Sql>() -> Option<SqlxStore> {
    store_with::<B>(
        StoreOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(10)),
    )
    .await
}

async fn seed(store: &SqlxStore, ids: &[&str]) {
    let mut uow = Bank::begin(store).await.expect("begin");
    for id in ids {
        uow.accounts
            .add(Account::open(id, "Ada", "north"))
            .expect("add");
    }
    uow.commit().await.expect("seed");
}

async fn load(store: &SqlxStore, id: &str) -> Option<Account> {
    let mut uow = Bank::begin(store).await.expect("begin");
    uow.accounts
        .get(&AccountId::new(id))
        .await
        .expect("get")
        .cloned()
}

/// Deposits into `id` in a unit of work of its own.
async fn deposit(store: &SqlxStore, id: &str, amount: i64) -> Result<(), Error> {
    let mut uow = Bank::begin(store).await?;
    uow.accounts
        .get(&AccountId::new(id))
        .await?
        .expect("stored")
        .deposit(amount);
    uow.commit().await.map(drop)
}

/// The server's id of the store's (only) connection.
async fn session_of(store: &SqlxStore) -> i64 {
    let sql = raw_sql::per_dialect(
        store.dialect(),
        "",
        "SELECT pg_backend_pid()::bigint",
        "SELECT CAST(CONNECTION_ID() AS SIGNED)",
    );
    raw_sql::integer(store, sql).await.expect("session id")
}

/// A connection of the test's own to the server, beside the store's pool.
enum Admin {
    Postgres(PgConnection),
    MySql(MySqlConnection),
}

impl Admin {
    async fn connect(store: &SqlxStore) -> Admin {
        match store.dialect() {
            Dialect::Postgres => {
                let url = backends::Postgres::url().expect("configured");
                Admin::Postgres(PgConnection::connect(&url).await.expect("connect"))
            }
            _ => {
                let url = backends::MySql::url().expect("configured");
                Admin::MySql(MySqlConnection::connect(&url).await.expect("connect"))
            }
        }
    }

    async fn execute(&mut self, sql: &str) {
        let statement = AssertSqlSafe(sql.to_owned());
        let outcome = match self {
            Admin::Postgres(conn) => conn.execute(statement).await.map(drop),
            Admin::MySql(conn) => conn.execute(statement).await.map(drop),
        };
        outcome.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    async fn count(&mut self, sql: &str) -> i64 {
        let statement = AssertSqlSafe(sql.to_owned());
        let outcome = match self {
            Admin::Postgres(conn) => sqlx::query_scalar(statement).fetch_one(conn).await,
            Admin::MySql(conn) => sqlx::query_scalar(statement).fetch_one(conn).await,
        };
        outcome.unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Terminates the server session `session` and waits until it is gone.
    async fn kill(&mut self, session: i64) {
        match self {
            Admin::Postgres(_) => {
                self.execute(&format!("SELECT pg_terminate_backend({session})"))
                    .await
            }
            Admin::MySql(_) => self.execute(&format!("KILL {session}")).await,
        }
        let alive = match self {
            Admin::Postgres(_) => {
                format!("SELECT count(*) FROM pg_stat_activity WHERE pid = {session}")
            }
            Admin::MySql(_) => {
                format!("SELECT COUNT(*) FROM information_schema.processlist WHERE id = {session}")
            }
        };
        self.wait_until(&alive, 0, "the killed session to end")
            .await;
    }

    /// Terminates every session of the test's own pool — found by the
    /// namespace the pool's connections use (the PostgreSQL application
    /// name, the MySQL database), never anyone else's — without waiting.
    async fn kill_own_sessions(&mut self, namespace: &str) -> usize {
        match self {
            Admin::Postgres(conn) => {
                let sql = format!(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                     WHERE application_name = '{namespace}' AND pid <> pg_backend_pid()"
                );
                let killed: i64 = sqlx::query_scalar(AssertSqlSafe(sql))
                    .fetch_one(conn)
                    .await
                    .expect("terminate the pool's sessions");
                killed as usize
            }
            Admin::MySql(conn) => {
                let sql = format!(
                    "SELECT CAST(id AS SIGNED) FROM information_schema.processlist \
                     WHERE db = '{namespace}' AND id <> CONNECTION_ID()"
                );
                let ids: Vec<i64> = sqlx::query_scalar(AssertSqlSafe(sql))
                    .fetch_all(&mut *conn)
                    .await
                    .expect("list the pool's sessions");
                let mut killed = 0;
                for id in ids {
                    // A session may end between the list and its kill.
                    if conn
                        .execute(AssertSqlSafe(format!("KILL {id}")))
                        .await
                        .is_ok()
                    {
                        killed += 1;
                    }
                }
                killed
            }
        }
    }

    /// Polls `sql` until it counts `expected`, for at most ten seconds.
    async fn wait_until(&mut self, sql: &str, expected: i64, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.count(sql).await != expected {
            assert!(Instant::now() < deadline, "waited ten seconds for {what}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits until `session` waits for a row lock.
    async fn wait_for_lock_wait(&mut self, session: i64) {
        let waiting = match self {
            Admin::Postgres(_) => format!(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = {session} AND wait_event_type = 'Lock'"
            ),
            Admin::MySql(_) => format!(
                "SELECT COUNT(*) FROM information_schema.processlist WHERE id = {session} AND info LIKE 'UPDATE%'"
            ),
        };
        self.wait_until(&waiting, 1, "the commit to wait for the locked row")
            .await;
    }
}

/// The table `table` of the store, qualified by its schema or database, as
/// another connection names it.
async fn qualified(store: &SqlxStore, table: &str) -> String {
    let sql = raw_sql::per_dialect(
        store.dialect(),
        "",
        "SELECT current_schema()::text",
        "SELECT DATABASE()",
    );
    let namespace = raw_sql::text(store, sql).await.expect("namespace");
    match store.dialect() {
        Dialect::Postgres => format!("\"{namespace}\".\"{table}\""),
        _ => format!("`{namespace}`.`{table}`"),
    }
}

fn assert_backend_error(error: &Error, what: &str) {
    assert!(
        matches!(error, Error::Backend(_)),
        "{what}: expected Error::Backend, got {error:?}"
    );
}

/// Waits until every connection of the store's pool is back and idle: a
/// cancelled or failed unit of work's transaction has then ended.
async fn settle(store: &SqlxStore) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (size, idle) = if let Some(pool) = store.sqlite_pool() {
            (pool.size(), pool.num_idle())
        } else if let Some(pool) = store.postgres_pool() {
            (pool.size(), pool.num_idle())
        } else {
            let pool = store.mysql_pool().expect("a pool");
            (pool.size(), pool.num_idle())
        };
        if idle as u32 >= size {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the pool's connections did not come back"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The schema (PostgreSQL) or database (MySQL) of the store: the name its
/// pool's sessions are found by.
async fn namespace(store: &SqlxStore) -> String {
    let sql = raw_sql::per_dialect(
        store.dialect(),
        "",
        "SELECT current_schema()::text",
        "SELECT DATABASE()",
    );
    raw_sql::text(store, sql).await.expect("namespace")
}

/// A small deterministic generator of delays (xorshift), so a failing run
/// can be repeated.
struct Delays(u64);

impl Delays {
    fn next(&mut self, max: Duration) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        let max = max.as_nanos().max(1) as u64;
        Duration::from_nanos(self.0 % max)
    }
}

/// Waits `delay` precisely (a timer's granularity is a millisecond): spins,
/// yielding to the runtime.
async fn spin(delay: Duration) {
    let until = Instant::now() + delay;
    while Instant::now() < until {
        tokio::task::yield_now().await;
    }
}

/// Runs `future` until it ends or `budget` has passed, whichever is first;
/// `None` when it was dropped unfinished. Polled without a pause (a timer's
/// granularity is a millisecond, a commit's a fraction of one).
async fn within<F: Future>(budget: Duration, future: F) -> Option<F::Output> {
    let until = Instant::now() + budget;
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(|cx| {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(cx) {
            return std::task::Poll::Ready(Some(output));
        }
        if Instant::now() >= until {
            return std::task::Poll::Ready(None);
        }
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    })
    .await
}

/// A deposit of 1 into `id`, ready to commit: the unit of work and its id.
async fn deposit_unit(store: &SqlxStore, id: &str) -> Result<(Bank<SqlxStore>, UnitId), Error> {
    let mut uow = Bank::begin(store).await?;
    uow.accounts
        .get(&AccountId::new(id))
        .await?
        .expect("stored")
        .deposit(1);
    let unit = uow.accounts.unit_id().clone();
    Ok((uow, unit))
}

/// The median time of a deposit's commit on `store`.
async fn commit_latency(store: &SqlxStore, id: &str) -> Duration {
    let mut samples = Vec::new();
    for _ in 0..21 {
        let (uow, _) = deposit_unit(store, id).await.expect("begin");
        let started = Instant::now();
        uow.commit().await.expect("commit");
        samples.push(started.elapsed());
    }
    samples.sort();
    samples[samples.len() / 2]
}

/// What happened to the first attempts of the logical deposits of a fault
/// run, and how the runs ended.
#[derive(Debug, Default)]
struct Tally {
    /// First attempts whose commit was hit (an error, or an outcome check).
    hit: u32,
    /// ... of which the connection failed during `COMMIT`, so the store
    /// checked the commit marker on a new connection.
    checked: u32,
    /// ... of which the check found the commit stored.
    checked_stored: u32,
    /// ... of which the store reported a retryable error.
    retryable: u32,
    /// Outcomes reported unknown (the database unreachable for the check).
    unknown: u32,
    /// Attempts run in all, first attempts included.
    attempts: u32,
    /// Rounds whose stored balance did not match the outcomes reported.
    misreports: u32,
}

mod scenarios {
    use super::*;

    /// The connection is killed between the loads of a unit of work and its
    /// commit.
    pub async fn a_connection_killed_inside_a_unit_of_work_fails_its_commit_and_stores_nothing<
        B: Sql,
    >() {
        let Some(store) = single_connection::<B>().await else {
            return;
        };
        seed(&store, &["acc-1"]).await;
        let session = session_of(&store).await;
        let mut admin = Admin::connect(&store).await;

        let mut uow = Bank::begin(&store).await.expect("begin");
        uow.accounts
            .get(&AccountId::new("acc-1"))
            .await
            .expect("get")
            .expect("stored")
            .deposit(100);
        uow.accounts
            .add(Account::open("acc-2", "Bob", "south"))
            .expect("add");
        admin.kill(session).await;

        let error = uow.commit().await.expect_err("its connection is gone");
        assert_backend_error(&error, "commit on a killed connection");
        assert!(
            error.is_retryable(),
            "nothing was sent that could be stored: a retry is safe: {error}"
        );
        assert!(
            error.to_string().contains("rolled back"),
            "the error says the unit was rolled back: {error}"
        );

        // Nothing of the unit is stored, and the store recovers at once.
        assert_eq!(load(&store, "acc-1").await.expect("stored").balance, 0);
        assert_eq!(load(&store, "acc-2").await, None);
        deposit(&store, "acc-1", 1)
            .await
            .expect("the next unit of work commits");
        assert_eq!(load(&store, "acc-1").await.expect("stored").balance, 1);
    }

    /// The connection is killed while a unit of work is open: its next read
    /// fails with a typed error naming what it was doing.
    pub async fn a_read_on_a_killed_connection_is_a_backend_error<B: Sql>() {
        let Some(store) = single_connection::<B>().await else {
            return;
        };
        seed(&store, &["acc-1", "acc-2"]).await;
        let session = session_of(&store).await;
        let mut admin = Admin::connect(&store).await;

        let mut uow = Bank::begin(&store).await.expect("begin");
        uow.accounts
            .get(&AccountId::new("acc-1"))
            .await
            .expect("get")
            .expect("stored")
            .deposit(5);
        admin.kill(session).await;
        let error = uow
            .accounts
            .get(&AccountId::new("acc-2"))
            .await
            .expect_err("its connection is gone");
        assert_backend_error(&error, "a read on a killed connection");
        assert!(
            error.to_string().contains("load from accounts"),
            "the error says what failed: {error}"
        );
        drop(uow);

        assert_eq!(load(&store, "acc-1").await.expect("stored").balance, 0);
        deposit(&store, "acc-2", 2)
            .await
            .expect("the next unit of work commits");
    }

    /// The connection is killed while the commit waits for a row lock, after
    /// it has written its first row: nothing of the unit is stored.
    pub async fn a_connection_killed_during_commit_stores_nothing<B: Sql>() {
        let Some(store) = single_connection::<B>().await else {
            return;
        };
        seed(&store, &["acc-1", "acc-2"]).await;
        let session = session_of(&store).await;
        let accounts = qualified(&store, "accounts").await;
        let mut admin = Admin::connect(&store).await;

        let mut uow = Bank::begin(&store).await.expect("begin");
        for id in ["acc-1", "acc-2"] {
            uow.accounts
                .get(&AccountId::new(id))
                .await
                .expect("get")
                .expect("stored")
                .deposit(10);
        }
        uow.accounts
            .add(Account::open("acc-3", "Cy", "east"))
            .expect("add");

        // Another session holds acc-2: the commit updates acc-1 (ids in
        // order), then waits for acc-2.
        let begin = match store.dialect() {
            Dialect::Postgres => "BEGIN",
            _ => "START TRANSACTION",
        };
        admin.execute(begin).await;
        admin
            .execute(&format!(
                "SELECT id FROM {accounts} WHERE id = 'acc-2' FOR UPDATE"
            ))
            .await;
        let commit = tokio::spawn(async move { uow.commit().await.map(drop) });
        admin.wait_for_lock_wait(session).await;

        let mut killer = Admin::connect(&store).await;
        killer.kill(session).await;
        let error = tokio::time::timeout(Duration::from_secs(10), commit)
            .await
            .expect("the commit returns once its connection is killed")
            .expect("the commit task does not panic")
            .expect_err("its connection is gone");
        assert_backend_error(&error, "a commit whose connection was killed");
        admin.execute("ROLLBACK").await;

        for id in ["acc-1", "acc-2"] {
            let stored = load(&store, id).await.expect("stored");
            assert_eq!((stored.balance, stored.version), (0, 1), "{id}");
        }
        assert_eq!(load(&store, "acc-3").await, None);
        deposit(&store, "acc-1", 1)
            .await
            .expect("the next unit of work commits");
    }

    /// The commit future is dropped (a timeout) at points from before its
    /// first statement to its end: each time, either all of the unit is
    /// stored or nothing is, and the commit's connection comes back to the
    /// pool (a MySQL connection dropped in the middle of a statement used to
    /// wait for ever, holding its row locks and its place in the pool).
    pub async fn a_commit_cancelled_mid_flight_stores_all_or_nothing<B: Sql>() {
        const ROWS: usize = 2_000;
        let Some(store) = store_with::<B>(StoreOptions::new().max_connections(3)).await else {
            return;
        };
        seed(&store, &["acc-0"]).await;
        let count_bulk = "SELECT COUNT(*) FROM accounts WHERE branch = 'bulk'";

        let (mut mid_flight, mut all, mut none) = (0, 0, 0);
        let mut balance = 0;
        let mut budget = Duration::from_micros(20);
        loop {
            raw_sql::run(&store, &["DELETE FROM accounts WHERE branch = 'bulk'"]).await;
            let mut uow = Bank::begin(&store).await.expect("begin");
            uow.accounts
                .get(&AccountId::new("acc-0"))
                .await
                .expect("get")
                .expect("stored")
                .deposit(1);
            for i in 0..ROWS {
                uow.accounts
                    .add(Account::open(&format!("bulk-{i:05}"), "Ada", "bulk"))
                    .expect("add");
            }
            let sent = store.statements_executed();
            match tokio::time::timeout(budget, uow.commit()).await {
                Ok(outcome) => {
                    outcome.expect("the commit succeeds given time");
                    balance += 1;
                    break;
                }
                Err(_) => {
                    if store.statements_executed() > sent {
                        mid_flight += 1;
                    }
                    settle(&store).await;
                    let stored = raw_sql::integer(&store, count_bulk).await.expect("count");
                    match stored {
                        0 => none += 1,
                        n if n == ROWS as i64 => {
                            all += 1;
                            balance += 1;
                        }
                        n => {
                            panic!("a commit cancelled after {budget:?} stored {n} of {ROWS} rows")
                        }
                    }
                    let stored = load(&store, "acc-0").await.expect("stored");
                    assert_eq!(stored.balance, balance, "the deposit went with the rows");
                }
            }
            budget *= 2;
            assert!(
                budget < Duration::from_secs(120),
                "the commit never finished"
            );
        }
        assert!(
            mid_flight > 0,
            "no timeout fell between the commit's first statement and its end"
        );
        uow_tests::report(&format!(
            "{}: {} commits cancelled ({mid_flight} after their first statement): {all} stored all, {none} nothing",
            B::NAME,
            all + none
        ));
        let stored = raw_sql::integer(&store, count_bulk).await.expect("count");
        assert_eq!(stored, ROWS as i64);
        assert_eq!(
            load(&store, "acc-0").await.expect("stored").balance,
            balance
        );
        deposit(&store, "acc-0", 1)
            .await
            .expect("the next unit of work commits");
    }

    /// Every pooled connection is held by an open unit of work: `begin`
    /// fails with a backend error after the acquire timeout instead of
    /// hanging, and succeeds once a unit of work ends.
    pub async fn an_exhausted_pool_times_out_with_a_backend_error<B: Sql>() {
        let timeout = Duration::from_millis(500);
        let Some(store) = store_with::<B>(
            StoreOptions::new()
                .max_connections(2)
                .acquire_timeout(timeout),
        )
        .await
        else {
            return;
        };
        seed(&store, &["acc-1"]).await;
        let first = Bank::begin(&store).await.expect("begin");
        let second = Bank::begin(&store).await.expect("begin");

        let started = Instant::now();
        let outcome = tokio::time::timeout(Duration::from_secs(30), Bank::begin(&store))
            .await
            .expect("begin does not hang on an exhausted pool");
        let waited = started.elapsed();
        let error = outcome.expect_err("no connection is free");
        assert_backend_error(&error, "begin on an exhausted pool");
        let chain = uow_tests::error_chain(&error);
        assert!(
            chain.contains("begin a unit of work") && chain.contains("timed out"),
            "the error says what timed out: {chain}"
        );
        assert!(
            waited >= timeout - Duration::from_millis(50) && waited < timeout * 6,
            "begin failed after {waited:?}, the acquire timeout is {timeout:?}"
        );

        drop(first);
        deposit(&store, "acc-1", 1)
            .await
            .expect("a unit of work begins once a connection is free");
        drop(second);
    }

    /// A panic inside a unit of work that holds the pool's only connection:
    /// nothing is stored and the connection comes back for the next unit.
    pub async fn a_panic_inside_a_unit_of_work_rolls_back_and_frees_its_connection<B: Sql>() {
        let Some(store) = single_connection::<B>().await else {
            return;
        };
        seed(&store, &["acc-1"]).await;

        let handle = store.clone();
        let outcome = tokio::spawn(async move {
            let mut uow = Bank::begin(&handle).await.expect("begin");
            uow.accounts
                .get(&AccountId::new("acc-1"))
                .await
                .expect("get")
                .expect("stored")
                .deposit(100);
            uow.accounts
                .add(Account::open("acc-2", "Bob", "south"))
                .expect("add");
            let _also_open = uow.entries.list(10).await.expect("list");
            panic!("a bug in the middle of a unit of work");
        })
        .await;
        assert!(outcome.expect_err("the task panicked").is_panic());

        let next = tokio::time::timeout(Duration::from_secs(5), async {
            let stored = load(&store, "acc-1").await.expect("stored");
            assert_eq!((stored.balance, stored.version), (0, 1));
            assert_eq!(load(&store, "acc-2").await, None);
            deposit(&store, "acc-1", 1).await
        })
        .await
        .expect("the panicking unit's connection came back to the pool");
        next.expect("the next unit of work commits");
        assert_eq!(load(&store, "acc-1").await.expect("stored").balance, 1);
    }
}

mod outcomes {
    use super::*;

    /// How many first attempts each fault run must hit during their commit.
    const HITS: u32 = 200;
    /// The most rounds a fault run takes to hit as many.
    const MAX_ROUNDS: u32 = 3_000;

    /// The unit's session is killed at a random point of its commit, over
    /// and over; each logical deposit is retried until it is reported done.
    /// Every reported outcome must match what is stored: a deposit reported
    /// done is stored once, one reported retryable is not stored (so its
    /// retry does not apply it twice).
    pub async fn fault_sessions_killed_during_commit_never_misreport<B: Sql>() {
        let Some(store) = single_connection::<B>().await else {
            return;
        };
        seed(&store, &["acc-1"]).await;
        let namespace = namespace(&store).await;
        let latency = commit_latency(&store, "acc-1").await;
        let mut expected = load(&store, "acc-1").await.expect("stored").balance;
        let mut admin = Admin::connect(&store).await;
        let mut delays = Delays(0x9E37_79B9_7F4A_7C15);
        let mut tally = Tally::default();
        let mut rounds = 0;
        let mut killed_sessions = 0;
        while tally.hit < HITS && rounds < MAX_ROUNDS {
            rounds += 1;
            let delay = delays.next(latency * 3 / 2);
            let mut attempt = 0;
            loop {
                attempt += 1;
                tally.attempts += 1;
                let (uow, unit) = deposit_unit(&store, "acc-1")
                    .await
                    .expect("a unit of work begins on a fresh connection after a kill");
                let checks = store.outcome_checks();
                let outcome = if attempt == 1 {
                    let (outcome, killed) = tokio::join!(uow.commit(), async {
                        spin(delay).await;
                        admin.kill_own_sessions(&namespace).await
                    });
                    killed_sessions += killed;
                    outcome
                } else {
                    uow.commit().await
                };
                let checked = store.outcome_checks() > checks;
                if attempt == 1 && (outcome.is_err() || checked) {
                    tally.hit += 1;
                    tally.checked += u32::from(checked);
                    if outcome.is_ok() {
                        tally.checked_stored += 1;
                    }
                }
                match outcome {
                    Ok(_) => {
                        expected += 1;
                        break;
                    }
                    Err(e) if e.is_retryable() => {
                        if attempt == 1 {
                            tally.retryable += 1;
                        }
                    }
                    Err(Error::CommitOutcomeUnknown { .. }) => {
                        tally.unknown += 1;
                        match store.commit_outcome(&unit).await.expect("ask") {
                            CommitOutcome::Committed => {
                                expected += 1;
                                break;
                            }
                            CommitOutcome::NotCommitted => {}
                        }
                    }
                    Err(e) => panic!("round {rounds}: an error no retry may clear: {e}"),
                }
                assert!(attempt < 20, "round {rounds}: the deposit never committed");
            }
            let stored = load(&store, "acc-1").await.expect("stored").balance;
            if stored != expected {
                tally.misreports += 1;
                expected = stored;
            }
        }
        uow_tests::report(&format!(
            "{}: {rounds} deposits, commit latency {latency:?}, {killed_sessions} sessions killed; {} commits hit ({} failed during COMMIT and were checked: {} found stored; {} reported retryable), {} outcomes unknown, {} attempts, {} misreports",
            B::NAME,
            tally.hit,
            tally.checked,
            tally.checked_stored,
            tally.retryable,
            tally.unknown,
            tally.attempts,
            tally.misreports
        ));
        assert_eq!(tally.misreports, 0, "{tally:?}");
        assert!(
            tally.hit >= HITS,
            "only {} of {rounds} kills hit a commit: {tally:?}",
            tally.hit
        );
        assert_eq!(tally.unknown, 0, "the server was reachable for every check");
    }

    /// A caller's own timeout drops the commit future at a random point;
    /// the caller asks the store for the outcome by the unit's id and runs
    /// the unit again only when it was not committed. Every deposit is
    /// stored exactly once.
    ///
    /// On the servers every other question goes to another store handle on
    /// the same database (as another process would ask), which knows
    /// nothing of the commit running on in the background and answers from
    /// the commit markers alone, fencing the commit if it has not written its
    /// marker yet.
    pub async fn fault_commits_dropped_by_a_timeout_are_resolved_by_unit_id<B: Sql>() {
        let Some(store) = store_with::<B>(StoreOptions::new().max_connections(4)).await else {
            return;
        };
        seed(&store, &["acc-1"]).await;
        let latency = commit_latency(&store, "acc-1").await;
        let mut expected = load(&store, "acc-1").await.expect("stored").balance;
        let mut delays = Delays(0x2545_F491_4F6C_DD1D);
        let (mut dropped, mut mid_flight, mut found_committed) = (0u32, 0u32, 0u32);
        let elsewhere = store.with_commit_markers(true);
        let (mut asked_elsewhere, mut fenced) = (0u32, 0u32);
        let mut misreports = 0;
        let mut rounds = 0;
        while mid_flight < HITS && rounds < MAX_ROUNDS {
            rounds += 1;
            let budget = delays.next(latency * 3 / 2);
            let mut attempt = 0;
            loop {
                attempt += 1;
                let (uow, unit) = deposit_unit(&store, "acc-1").await.expect("begin");
                let sent = store.statements_executed();
                let outcome = if attempt == 1 {
                    within(budget, uow.commit()).await
                } else {
                    Some(uow.commit().await)
                };
                match outcome {
                    Some(Ok(_)) => {
                        expected += 1;
                        break;
                    }
                    Some(Err(e)) if e.is_retryable() => {}
                    Some(Err(e)) => panic!("round {rounds}: {e}"),
                    None => {
                        dropped += 1;
                        if store.statements_executed() > sent {
                            mid_flight += 1;
                        }
                        let ask_elsewhere = store.dialect() != Dialect::Sqlite && dropped % 2 == 0;
                        let asked = if ask_elsewhere {
                            asked_elsewhere += 1;
                            &elsewhere
                        } else {
                            &store
                        };
                        match asked.commit_outcome(&unit).await.expect("ask") {
                            CommitOutcome::Committed => {
                                found_committed += 1;
                                expected += 1;
                                break;
                            }
                            CommitOutcome::NotCommitted => fenced += u32::from(ask_elsewhere),
                        }
                    }
                }
                assert!(attempt < 20, "round {rounds}: the deposit never committed");
            }
            let stored = load(&store, "acc-1").await.expect("stored").balance;
            if stored != expected {
                misreports += 1;
                expected = stored;
            }
        }
        uow_tests::report(&format!(
            "{}: {rounds} deposits, commit latency {latency:?}; {dropped} commit futures dropped ({mid_flight} after their first statement), {found_committed} found committed by unit id; {asked_elsewhere} asked through another handle (markers only), {fenced} of them answered not committed (fenced) and re-run; {misreports} misreports",
            B::NAME
        ));
        assert_eq!(misreports, 0);
        assert!(
            mid_flight >= HITS,
            "only {mid_flight} drops fell inside a commit"
        );
    }

    /// Asked for before its commit began, a unit of work is answered "not
    /// committed", and that answer stays true: its commit then fails with a
    /// retryable error and stores nothing.
    pub async fn a_unit_answered_not_committed_can_no_longer_commit<B: Sql>() {
        let Some(store) = store_with::<B>(StoreOptions::new().commit_markers(true)).await else {
            return;
        };
        seed(&store, &["acc-1"]).await;
        let (uow, unit) = deposit_unit(&store, "acc-1").await.expect("begin");
        assert_eq!(
            store.commit_outcome(&unit).await.expect("ask"),
            CommitOutcome::NotCommitted
        );
        let error = uow.commit().await.expect_err("fenced");
        assert!(error.is_retryable(), "{error}");
        let chain = uow_tests::error_chain(&error);
        assert!(chain.contains("not committed"), "{chain}");
        assert_eq!(load(&store, "acc-1").await.expect("stored").balance, 0);
        assert_eq!(
            store.commit_outcome(&unit).await.expect("ask"),
            CommitOutcome::NotCommitted
        );
        let (uow, unit) = deposit_unit(&store, "acc-1").await.expect("begin");
        uow.commit().await.expect("commit");
        assert_eq!(
            store.commit_outcome(&unit).await.expect("ask"),
            CommitOutcome::Committed
        );
    }

    /// Every session of a warm pool is killed at once (a server restart, as
    /// the pool sees it): the units of work that follow all succeed through
    /// `retry`.
    pub async fn fault_every_session_of_a_warm_pool_killed_then_units_succeed<B: Sql>() {
        let Some(store) = store_with::<B>(StoreOptions::new().max_connections(4)).await else {
            return;
        };
        seed(&store, &["acc-1", "acc-2", "acc-3", "acc-4"]).await;
        let namespace = namespace(&store).await;
        // Warm: four units of work open at once, so the pool holds four.
        let mut open = Vec::new();
        for _ in 0..4 {
            open.push(Bank::begin(&store).await.expect("begin"));
        }
        drop(open);
        settle(&store).await;
        let mut admin = Admin::connect(&store).await;
        let killed = admin.kill_own_sessions(&namespace).await;
        assert!(
            killed >= 4,
            "the pool's four sessions were killed, not {killed}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;

        for round in 0..8 {
            let id = format!("acc-{}", round % 4 + 1);
            uow_core::retry(3, || deposit(&store, &id, 1))
                .await
                .unwrap_or_else(|e| panic!("unit {round} after the restart: {e}"));
        }
        let total: i64 = {
            let mut sum = 0;
            for id in ["acc-1", "acc-2", "acc-3", "acc-4"] {
                sum += load(&store, id).await.expect("stored").balance;
            }
            sum
        };
        assert_eq!(total, 8, "each unit applied once");
    }

    /// A column's type is changed (a routine migration) under a pool whose
    /// connections have prepared their reads: PostgreSQL fails the next read
    /// of each such connection with `cached plan must not change result
    /// type`. The failure is retryable, the pool replaces the connections
    /// opened before it, and every unit of work succeeds within one retry.
    pub async fn fault_a_column_type_changed_under_a_warm_pool_recovers_within_one_retry<B: Sql>() {
        let Some(store) = store_with::<B>(StoreOptions::new().max_connections(4)).await else {
            return;
        };
        seed(&store, &["acc-1", "acc-2", "acc-3", "acc-4"]).await;
        // Warm: every connection has run (and prepared) the account read.
        let units: Vec<_> = ["acc-1", "acc-2", "acc-3", "acc-4"]
            .into_iter()
            .map(|id| {
                let store = store.clone();
                tokio::spawn(async move {
                    let mut uow = Bank::begin(&store).await.expect("begin");
                    uow.accounts
                        .get(&AccountId::new(id))
                        .await
                        .expect("get")
                        .expect("stored");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                })
            })
            .collect();
        for unit in units {
            unit.await.expect("no panic");
        }
        let accounts = qualified(&store, "accounts").await;
        let mut admin = Admin::connect(&store).await;
        admin
            .execute(&format!(
                "ALTER TABLE {accounts} ALTER COLUMN owner TYPE VARCHAR(200)"
            ))
            .await;

        let mut retried = 0;
        for round in 0..12 {
            let id = format!("acc-{}", round % 4 + 1);
            let mut attempts = 0;
            uow_core::retry(2, || {
                attempts += 1;
                deposit(&store, &id, 1)
            })
            .await
            .unwrap_or_else(|e| panic!("unit {round} after the ALTER, within one retry: {e}"));
            retried += attempts - 1;
        }
        uow_tests::report(&format!(
            "{}: after ALTER COLUMN ... TYPE under a warm pool, 12 units succeeded with {retried} retries",
            B::NAME
        ));
        assert!(retried >= 1, "the first read after the ALTER failed once");
        let mut total = 0;
        for id in ["acc-1", "acc-2", "acc-3", "acc-4"] {
            total += load(&store, id).await.expect("stored").balance;
        }
        assert_eq!(total, 12);
    }

    /// A commit waits on a row lock held outside uow: with a lock timeout,
    /// it fails with the typed, retryable timeout, and stores nothing.
    pub async fn a_commit_waiting_on_a_lock_times_out_with_a_retryable_error<B: Sql>() {
        a_commit_waiting_on_a_lock_times_out::<B>(
            StoreOptions::new().lock_timeout(Duration::from_secs(1)),
            TimeoutKind::LockWait,
        )
        .await;
    }

    /// The same wait, cut short by the statement timeout instead.
    pub async fn a_statement_timeout_is_a_typed_retryable_error<B: Sql>() {
        a_commit_waiting_on_a_lock_times_out::<B>(
            StoreOptions::new().statement_timeout(Duration::from_millis(800)),
            TimeoutKind::Statement,
        )
        .await;
    }

    async fn a_commit_waiting_on_a_lock_times_out<B: Sql>(
        options: StoreOptions,
        kind: TimeoutKind,
    ) {
        let Some(store) = store_with::<B>(options.max_connections(2)).await else {
            return;
        };
        seed(&store, &["acc-1"]).await;
        let accounts = qualified(&store, "accounts").await;
        let mut admin = Admin::connect(&store).await;
        let begin = match store.dialect() {
            Dialect::Postgres => "BEGIN",
            _ => "START TRANSACTION",
        };
        admin.execute(begin).await;
        admin
            .execute(&format!(
                "SELECT id FROM {accounts} WHERE id = 'acc-1' FOR UPDATE"
            ))
            .await;
        let started = Instant::now();
        let outcome = tokio::time::timeout(Duration::from_secs(30), deposit(&store, "acc-1", 1))
            .await
            .expect("the commit does not wait for ever");
        let waited = started.elapsed();
        admin.execute("ROLLBACK").await;
        let error = outcome.expect_err("the row is locked");
        assert!(
            matches!(&error, Error::Timeout { kind: k, .. } if *k == kind),
            "a typed {kind}: {error:?}"
        );
        assert!(error.is_retryable(), "{error}");
        assert!(waited < Duration::from_secs(10), "waited {waited:?}");
        assert_eq!(load(&store, "acc-1").await.expect("stored").balance, 0);
        deposit(&store, "acc-1", 1)
            .await
            .expect("the next unit commits once the lock is free");
    }
}

mod markers {
    use super::*;

    /// Commit markers older than the store keeps them are deleted as
    /// commits go on (every thousand commits), not kept for ever.
    pub async fn commit_markers_are_pruned<B: Sql>() {
        let Some(store) = store_with::<B>(
            StoreOptions::new()
                .commit_markers(true)
                .commit_markers_kept(Duration::from_millis(1)),
        )
        .await
        else {
            return;
        };
        seed(&store, &["acc-1"]).await;
        let count = format!("SELECT COUNT(*) FROM {}", uow_sqlx::COMMITS_TABLE);
        for _ in 0..1_100 {
            deposit(&store, "acc-1", 1).await.expect("deposit");
        }
        // The pruning runs in a task of its own.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let kept = raw_sql::integer(&store, &count).await.expect("count");
            if kept < 200 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{kept} of 1,101 markers are still stored"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(load(&store, "acc-1").await.expect("stored").balance, 1_100);
    }

    /// With markers on, `create_tables` creates the marker table, `ddl`
    /// prints it, and `verify_tables_for` checks it like the outbox table.
    pub async fn the_marker_table_is_created_printed_and_verified<B: Sql>() {
        let Some(store) = store_with::<B>(StoreOptions::new().commit_markers(true)).await else {
            return;
        };
        assert!(store.ddl(TABLES).contains(uow_sqlx::COMMITS_TABLE));
        store
            .verify_tables_for::<Bank<SqlxStore>>()
            .await
            .expect("the tables and the marker table verify");
        raw_sql::run(
            &store,
            &[&format!("DROP TABLE {}", uow_sqlx::COMMITS_TABLE)],
        )
        .await;
        let error = store
            .verify_tables_for::<Bank<SqlxStore>>()
            .await
            .expect_err("the marker table is missing");
        assert!(
            matches!(&error, Error::Schema { table, .. } if table == uow_sqlx::COMMITS_TABLE),
            "{error}"
        );
        let unmarked = store.with_commit_markers(false);
        assert!(!unmarked.ddl(TABLES).contains(uow_sqlx::COMMITS_TABLE));
        unmarked
            .verify_tables_for::<Bank<SqlxStore>>()
            .await
            .expect("without markers the table is not needed");
    }
}

mod pruned {
    use super::markers;
    uow_tests::on_backends!([sqlite, postgres, mysql] markers: [
        commit_markers_are_pruned,
        the_marker_table_is_created_printed_and_verified,
    ]);
}

/// A value the database rejects — here through a CHECK constraint a
/// migration added, which uow does not know about — in the fourth row of a
/// multi-row insert: the error names that row's aggregate, not the first of
/// the batch, and nothing is stored. (Values that no backend can hold are
/// refused by uow before any statement, naming their aggregate: the
/// fidelity suite.)
async fn a_failed_batch_names_the_row_at_fault(store: SqlxStore) {
    let check = "ALTER TABLE accounts ADD CONSTRAINT no_overdraft CHECK (balance >= 0)";
    uow_tests::raw_sql::execute(&store, check)
        .await
        .expect("add the check");
    let mut uow = Bank::begin(&store).await.expect("begin");
    for i in 1..=6 {
        let mut account = Account::open(&format!("acc-{i}"), "Ada", "north");
        if i == 4 {
            account.balance = -5;
        }
        uow.accounts.add(account).expect("add");
    }
    let error = uow
        .commit()
        .await
        .expect_err("the database rejects the overdrawn account");
    let text = error.to_string();
    assert!(text.contains("`acc-4`"), "names the row at fault: {text}");
    assert!(text.contains("rolled back"), "{text}");
    for i in 1..=6 {
        assert_eq!(
            load(&store, &format!("acc-{i}")).await,
            None,
            "nothing stored"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_batch_names_the_row_at_fault_on_mysql() {
    if let Some(store) = store_with::<backends::MySql>(StoreOptions::new()).await {
        a_failed_batch_names_the_row_at_fault(store).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_batch_names_the_row_at_fault_on_postgres() {
    if let Some(store) = store_with::<backends::Postgres>(StoreOptions::new()).await {
        a_failed_batch_names_the_row_at_fault(store).await;
    }
}

mod postgres_plans {
    use super::outcomes;
    uow_tests::on_backends!([postgres] outcomes: [
        fault_a_column_type_changed_under_a_warm_pool_recovers_within_one_retry,
    ]);
}

mod faults_on_servers {
    use super::outcomes;
    uow_tests::on_backends!([postgres, mysql] outcomes: [
        fault_sessions_killed_during_commit_never_misreport,
        fault_every_session_of_a_warm_pool_killed_then_units_succeed,
        a_commit_waiting_on_a_lock_times_out_with_a_retryable_error,
        a_statement_timeout_is_a_typed_retryable_error,
    ]);
}

mod dropped {
    use super::outcomes;
    uow_tests::on_backends!([sqlite, postgres, mysql] outcomes: [
        fault_commits_dropped_by_a_timeout_are_resolved_by_unit_id,
        a_unit_answered_not_committed_can_no_longer_commit,
    ]);
}

mod killed {
    use super::scenarios;
    uow_tests::on_backends!([postgres, mysql] scenarios: [
        a_connection_killed_inside_a_unit_of_work_fails_its_commit_and_stores_nothing,
        a_read_on_a_killed_connection_is_a_backend_error,
        a_connection_killed_during_commit_stores_nothing,
    ]);
}

uow_tests::on_backends!([sqlite, postgres, mysql] scenarios: [
    a_commit_cancelled_mid_flight_stores_all_or_nothing,
    an_exhausted_pool_times_out_with_a_backend_error,
    a_panic_inside_a_unit_of_work_rolls_back_and_frees_its_connection,
]);
