//! Writing `BENCHMARKS.md`: machine and versions, one table per benchmark,
//! the ratios, the targets met or missed, the compile-time comparison, and
//! the hand-written analysis (`benches/analysis.md`).

use std::fmt::Write as _;

use crate::backends::Backend;
use crate::compile_time::{self, CompileTimes};
use crate::curves::{BackendCurves, Plots};
use crate::harness::{Bench, Group, Imp, Measurement, Plan, thousands};

/// What the run found out about where it ran.
pub struct Environment {
    pub date: String,
    pub commit: String,
    pub cpu: String,
    pub cores: usize,
    pub memory: String,
    pub os: String,
    pub rustc: String,
    pub crates: Vec<(String, String)>,
    pub servers: Vec<(Backend, String)>,
    pub load_before: String,
    pub load_after: String,
    pub duration: std::time::Duration,
    pub command: String,
}

pub struct Report<'a> {
    pub env: &'a Environment,
    pub plan: Plan,
    pub groups: &'a [Group],
    pub compile: Option<&'a CompileTimes>,
    pub skipped: &'a [(Backend, String)],
    pub http: &'a [crate::http::Outcome],
    pub analysis: Option<String>,
    /// The scale curves (`--benches curves`), and where their charts are.
    pub curves: &'a [BackendCurves],
    pub plots: &'a Plots,
}

fn fmt_rate(x: f64) -> String {
    if !x.is_finite() {
        return "–".to_owned();
    }
    if x >= 100.0 {
        thousands(x.round() as usize)
    } else {
        format!("{x:.1}")
    }
}

fn cell(m: Option<&Measurement>) -> String {
    match m {
        Some(m) if !m.samples.is_empty() => format!(
            "**{}** <sub>{}–{}</sub>",
            fmt_rate(m.median()),
            fmt_rate(m.min()),
            fmt_rate(m.max())
        ),
        _ => "–".to_owned(),
    }
}

fn ratio(x: Option<f64>) -> String {
    match x {
        Some(x) if x.is_finite() => format!("{x:.2}×"),
        _ => "–".to_owned(),
    }
}

/// A target: its rule, and per case whether it holds.
struct Target {
    rule: String,
    cases: Vec<(String, f64, bool)>,
}

impl Report<'_> {
    fn groups(&self, pred: impl Fn(&Group) -> bool) -> Vec<&Group> {
        self.groups.iter().filter(|g| pred(g)).collect()
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let env = self.env;
        let _ = writeln!(
            out,
            "# Benchmarks\n\n\
             uow against hand-written sqlx and SeaORM, the same table and the same work, side by side in one run.\n\
             This file is written by the benchmark; do not edit it by hand (the analysis at the end comes from\n\
             `benches/analysis.md`).\n"
        );
        let _ = writeln!(
            out,
            "## How to reproduce\n\n\
             ```sh\n\
             # PostgreSQL and MySQL/MariaDB URLs: BENCH_POSTGRES_URL / BENCH_MYSQL_URL,\n\
             # else UOW_TEST_POSTGRES_URL / UOW_TEST_MYSQL_URL, else the local defaults\n\
             # postgres://postgres@127.0.0.1:5432/test and mysql://root@127.0.0.1:3306/test.\n\
             # The tables live in a database `uow_bench` on that server, created if missing\n\
             # (the HTTP comparison: `uow_bench_http*`); the URL's own database is not touched.\n\
             cargo run --release --manifest-path benches/Cargo.toml\n\
             ```\n\n\
             It runs every benchmark on every database it can reach (a server that cannot be reached is\n\
             listed as skipped), measures the compile time of the derives, and writes this file. Options\n\
             (after `--`): `--runs N` (default 15), `--warmup N` (1), `--run-ms N` (length of one run of\n\
             (1) and (2), default 150), `--backends sqlite,sqlite-memory,postgres,mysql`,\n\
             `--benches load,deposit,insert,update,page,children,features,curves`, `--skip-compile`,\n\
             `--compile-only`, `--output PATH`, `--plots DIR` (where the scale curves' charts go), and\n\
             `--profile BACKEND BENCH IMPL SECONDS` to loop one case under a profiler\n\
             (`perf record -g target/release/uow-benches --profile sqlite-memory deposit uow 10`).\n\n\
             The benchmark lives in its own workspace (`benches/`, not a member of the main workspace), so\n\
             `cargo test --workspace` never compiles SeaORM.\n"
        );
        let _ = writeln!(out, "## Machine and versions\n");
        let _ = writeln!(out, "| | |\n|---|---|");
        let _ = writeln!(out, "| date | {} |", env.date);
        let _ = writeln!(out, "| commit | {} |", env.commit);
        let _ = writeln!(out, "| CPU | {} ({} cores) |", env.cpu, env.cores);
        let _ = writeln!(out, "| memory | {} |", env.memory);
        let _ = writeln!(out, "| OS | {} |", env.os);
        let _ = writeln!(out, "| compiler | {} (release profile) |", env.rustc);
        for (name, version) in &env.crates {
            let _ = writeln!(out, "| {name} | {version} |");
        }
        for (backend, version) in &env.servers {
            let _ = writeln!(out, "| {} | {version} |", backend.name());
        }
        for (backend, why) in self.skipped {
            let _ = writeln!(out, "| {} | skipped: {why} |", backend.name());
        }
        let _ = writeln!(
            out,
            "| load average (1 min) | {} at the start, {} at the end (other work shared the machine) |",
            env.load_before, env.load_after
        );
        let _ = writeln!(
            out,
            "| run | `{}`: {} warm-up + {} measured runs per implementation, interleaved; {:.0} s in all |",
            env.command,
            self.plan.warmup,
            self.plan.runs,
            env.duration.as_secs_f64()
        );
        let _ = writeln!(out);

        let _ = writeln!(
            out,
            "## What is measured\n\n\
             One table, `bench_accounts` (id BIGINT primary key, version BIGINT, owner TEXT, email TEXT,\n\
             balance BIGINT, active BOOL; created by uow's DDL), seeded with 1,000 rows. Three\n\
             implementations do the same work on it, sharing one pool per database (10 connections, no\n\
             test before acquire: the settings of `SqlxStore::connect`):\n\n\
             - **uow**: `#[derive(Aggregate)] struct Account`, `#[unit_of_work] struct Ledger`,\n\
             \x20 `SqlxStore::from(pool)`.\n\
             - **sqlx (hand-written)**: static SQL, statements prepared once per connection by sqlx's cache,\n\
             \x20 rows decoded into tuples, the same full-row `UPDATE ... WHERE id = ? AND version = ?` with the\n\
             \x20 affected-row check, multi-row `INSERT`s of 1,000 rows.\n\
             - **SeaORM**: `DeriveEntityModel`, `find_by_id`, `ActiveModel` updates filtered on the version\n\
             \x20 (`RecordNotUpdated` is the conflict), `insert_many` in statements of 1,000 rows.\n\n\
             All three keep uow's transaction boundaries: on SQLite a unit of work holds one connection,\n\
             reads in autocommit mode and writes in one `BEGIN IMMEDIATE` transaction; on PostgreSQL and\n\
             MariaDB it is one READ COMMITTED transaction. (1) ends the unit of work without a commit\n\
             (dropped: rollback). (3) times the whole unit of work (begin, add, commit) over aggregates built\n\
             beforehand; (4) loads and changes the 1,000 aggregates untimed and times the commit.\n\
             Throughput is one client doing one operation after the other (tokio multi-thread runtime).\n\
             Cells: **median** <sub>min–max</sub> over the measured runs. A ratio is the median of the\n\
             per-round ratios (the runs of one round are adjacent in time, so a round's ratio cancels what\n\
             the rest of the machine did to both); the result tables round it to two decimals, the targets\n\
             table to three.\n"
        );

        let _ = writeln!(out, "## Results\n");
        self.latency_table(&mut out, Bench::Load);
        self.latency_table(&mut out, Bench::Deposit);
        for n in self.insert_sizes() {
            self.insert_table(&mut out, n);
        }
        for n in self.update_sizes() {
            self.update_table(&mut out, n);
        }
        self.memory_table(&mut out);
        self.markers_table(&mut out);
        self.page_table(&mut out);
        if !self
            .groups(|g| g.bench == Bench::ChildLoad || g.bench == Bench::ChildChange)
            .is_empty()
        {
            let _ = writeln!(
                out,
                "### Child tables: (8) and (9)\n\n\
                 100 products (`bench_products`), each with 10 batches (`bench_batches`) of 10 allocations\n\
                 (`bench_allocations`): uow's `#[aggregate(children)]` / `#[entity(children)]` tables, created by\n\
                 its DDL. uow loads a product with one `SELECT` per table; hand-written sqlx sends the same three\n\
                 `SELECT`s and assembles the product in position order. (9) changes one allocation: uow diffs\n\
                 the children against the snapshot and sends the product's version-checked `UPDATE` and one\n\
                 `UPDATE` of the allocation (plus its commit marker on the servers); hand-written sqlx sends the\n\
                 same two `UPDATE`s. Same transaction boundaries as above.\n"
            );
        }
        self.latency_table(&mut out, Bench::ChildLoad);
        self.latency_table(&mut out, Bench::ChildChange);
        crate::features::render(&mut out, self.groups);
        crate::curves::render(&mut out, self.curves, self.plots);

        crate::http::render(self.http, &mut out);

        let _ = writeln!(out, "## Targets\n");
        let targets = self.targets();
        let _ = writeln!(out, "| target | case | value | met |\n|---|---|---|---|");
        for t in &targets {
            for (case, value, met) in &t.cases {
                let _ = writeln!(
                    out,
                    "| {} | {case} | {value:.3}× | {} |",
                    t.rule,
                    if *met { "yes" } else { "**no**" }
                );
            }
        }
        // Targets whose value is not a ratio.
        let others = crate::curves::targets(self.curves);
        for (rule, case, value, met) in &others {
            let _ = writeln!(
                out,
                "| {rule} | {case} | {value} | {} |",
                if *met { "yes" } else { "**no**" }
            );
        }
        let missed: usize = targets
            .iter()
            .map(|t| t.cases.iter().filter(|c| !c.2).count())
            .sum::<usize>()
            + others.iter().filter(|t| !t.3).count();
        let total: usize = targets.iter().map(|t| t.cases.len()).sum::<usize>() + others.len();
        let _ = writeln!(
            out,
            "\n{} of {total} target cases met in this run{}.\n",
            total - missed,
            if missed > 0 {
                "; the analysis below explains the misses"
            } else {
                ""
            }
        );

        if let Some(c) = self.compile {
            self.compile_section(&mut out, c);
        }
        if let Some(analysis) = &self.analysis {
            let _ = writeln!(out, "{}", analysis.trim_end());
        }
        out
    }

    fn insert_sizes(&self) -> Vec<usize> {
        let mut sizes: Vec<usize> = self
            .groups
            .iter()
            .filter_map(|g| match g.bench {
                Bench::Insert(n) => Some(n),
                _ => None,
            })
            .collect();
        sizes.sort();
        sizes.dedup();
        sizes
    }

    fn update_sizes(&self) -> Vec<usize> {
        let mut sizes: Vec<usize> = self
            .groups
            .iter()
            .filter_map(|g| match g.bench {
                Bench::Update(n) => Some(n),
                _ => None,
            })
            .collect();
        sizes.sort();
        sizes.dedup();
        sizes
    }

    fn statements(g: &Group) -> String {
        match g.get(Imp::Uow).and_then(|m| m.statements) {
            Some(s) if s >= 10.0 => format!("{s:.0}"),
            Some(s) => format!("{s:.1}"),
            None => "–".to_owned(),
        }
    }

    fn round_trips(g: &Group) -> String {
        match g.get(Imp::Uow).and_then(|m| m.round_trips) {
            Some(s) if s >= 10.0 => format!("{s:.0}"),
            Some(s) => format!("{s:.1}"),
            None => "–".to_owned(),
        }
    }

    fn latency_table(&self, out: &mut String, bench: Bench) {
        let groups = self.groups(|g| g.bench == bench);
        if groups.is_empty() {
            return;
        }
        let _ = writeln!(out, "### {} ({})\n", bench.title(), bench.unit());
        let _ = writeln!(
            out,
            "| database | uow | sqlx, uow's boundaries | sqlx, plain transaction | SeaORM | uow ÷ sqlx | uow ÷ plain | uow ÷ SeaORM | uow statements/op | uow round trips/op |\n\
             |---|---|---|---|---|---|---|---|---|---|"
        );
        for g in groups {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                g.backend.name(),
                cell(g.get(Imp::Uow)),
                cell(g.get(Imp::Sqlx)),
                cell(g.get(Imp::SqlxPlain)),
                cell(g.get(Imp::SeaOrm)),
                ratio(g.ratio(Imp::Uow, Imp::Sqlx)),
                ratio(g.ratio(Imp::Uow, Imp::SqlxPlain)),
                ratio(g.ratio(Imp::Uow, Imp::SeaOrm)),
                Self::statements(g),
                Self::round_trips(g),
            );
        }
        let _ = writeln!(
            out,
            "\nsqlx, uow's boundaries: hand-written sqlx with the transaction boundaries uow has at READ COMMITTED \
             (reads in autocommit, a commit of one `UPDATE` alone, no commit marker). sqlx, plain transaction: \
             `pool.begin()`, `SELECT`, `UPDATE … WHERE version = ?`, `commit()`. \
             uow statements/op counts what `SqlxStore::statements_executed()` counts (not `BEGIN`/`COMMIT`); \
             round trips/op what `SqlxStore::round_trips()` counts (with `BEGIN`/`COMMIT`).\n"
        );
    }

    fn page_table(&self, out: &mut String) {
        let groups = self.groups(|g| g.bench == Bench::Page);
        if groups.is_empty() {
            return;
        }
        let _ = writeln!(
            out,
            "### {} ({})\n",
            Bench::Page.title(),
            Bench::Page.unit()
        );
        let _ = writeln!(
            out,
            "Each operation: a unit of work reads one page of the 500 active accounts, richest first\n\
             (`query().filter(|a| a.active.eq(true)).order_by(|a| a.balance.desc()).page(50, cursor)`),\n\
             starting after the next of the nine cursors of the seeded data; hand-written sqlx runs the\n\
             same keyset query (`WHERE active = ? AND (balance < ? OR (balance = ? AND id > ?)) ORDER BY\n\
             balance DESC, id LIMIT 51`, the 51st row telling whether a next page exists) in the same\n\
             transaction boundaries. uow also encodes the next cursor and tracks the 50 aggregates.\n"
        );
        let _ = writeln!(
            out,
            "| database | uow | sqlx (hand-written) | uow ÷ sqlx |\n|---|---|---|---|"
        );
        for g in groups {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                g.backend.name(),
                cell(g.get(Imp::Uow)),
                cell(g.get(Imp::Sqlx)),
                ratio(g.ratio(Imp::Uow, Imp::Sqlx)),
            );
        }
        let _ = writeln!(out);
    }

    fn insert_table(&self, out: &mut String, n: usize) {
        let bench = Bench::Insert(n);
        let groups = self.groups(|g| g.bench == bench);
        let _ = writeln!(out, "### {} ({})\n", bench.title(), bench.unit());
        let _ = writeln!(
            out,
            "| database | uow | sqlx multi-row INSERT | sqlx one INSERT per row | SeaORM insert_many | uow ÷ multi-row | uow ÷ per-row | uow ÷ SeaORM | uow statements |\n\
             |---|---|---|---|---|---|---|---|---|"
        );
        for g in groups {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                g.backend.name(),
                cell(g.get(Imp::Uow)),
                cell(g.get(Imp::Sqlx)),
                cell(g.get(Imp::SqlxRowByRow)),
                cell(g.get(Imp::SeaOrm)),
                ratio(g.ratio(Imp::Uow, Imp::Sqlx)),
                ratio(g.ratio(Imp::Uow, Imp::SqlxRowByRow)),
                ratio(g.ratio(Imp::Uow, Imp::SeaOrm)),
                Self::statements(g),
            );
        }
        let _ = writeln!(out);
    }

    fn update_table(&self, out: &mut String, n: usize) {
        let bench = Bench::Update(n);
        let groups = self.groups(|g| g.bench == bench);
        let _ = writeln!(out, "### {} ({})\n", bench.title(), bench.unit());
        let _ = writeln!(
            out,
            "| database | uow | sqlx batched version-checked UPDATE | sqlx one version-checked UPDATE per row | SeaORM one update per row | uow ÷ batched | uow ÷ per-row | uow ÷ SeaORM | uow statements |\n\
             |---|---|---|---|---|---|---|---|---|"
        );
        for g in groups {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                g.backend.name(),
                cell(g.get(Imp::Uow)),
                cell(g.get(Imp::SqlxBatch)),
                cell(g.get(Imp::SqlxRowByRow)),
                cell(g.get(Imp::SeaOrm)),
                ratio(g.ratio(Imp::Uow, Imp::SqlxBatch)),
                ratio(g.ratio(Imp::Uow, Imp::SqlxRowByRow)),
                ratio(g.ratio(Imp::Uow, Imp::SeaOrm)),
                Self::statements(g),
            );
        }
        let _ = writeln!(
            out,
            "\nuow's commit: on every database a savepoint and one batched, version-guarded `UPDATE` (SQLite\n\
             `UPDATE ... FROM (VALUES ...)` padded to 1,024 rows, PostgreSQL `UPDATE ... FROM UNNEST(...)`,\n\
             MariaDB `UPDATE ... JOIN (SELECT ... UNION ALL ...)` padded to 1,024 rows), whose affected-row\n\
             count checks the versions (a batch that falls short is undone and written row by row to name\n\
             the aggregate that conflicted), and the commit marker on the servers. The\n\
             statement count includes the `SELECT` that loaded the aggregates (not timed). The batched\n\
             hand-written update is the best we know per database, every row guarded by its version and\n\
             the affected-row count checked: SQLite `UPDATE ... FROM (VALUES ...)` of 1,000 rows,\n\
             PostgreSQL one `UPDATE ... FROM UNNEST(...)` of one array per column, MariaDB `UPDATE ...\n\
             JOIN (SELECT ... UNION ALL ...)` of 1,000 rows. The per-row column and SeaORM send one\n\
             `UPDATE` per row.\n"
        );
    }

    fn markers_table(&self, out: &mut String) {
        let groups =
            self.groups(|g| g.bench == Bench::Deposit && g.get(Imp::UowNoMarkers).is_some());
        if groups.is_empty() {
            return;
        }
        let _ = writeln!(
            out,
            "### (6) the commit outcome check: (2) with commit markers on and off\n\n\
             Each commit of uow writes its unit of work's id into `uow_commits` in its own transaction\n\
             (the default), so that a commit whose connection fails during `COMMIT` is checked and\n\
             reported truthfully: on by default for PostgreSQL and MariaDB, off for SQLite. The two\n\
             columns are `SqlxStore::with_commit_markers(true / false)` on the same pool, interleaved\n\
             with each other and with (2).\n\n\
             | database | markers on | markers off | on ÷ off | statements/op on | statements/op off |\n\
             |---|---|---|---|---|---|"
        );
        for g in groups {
            let statements = |imp: Imp| match g.get(imp).and_then(|m| m.statements) {
                Some(s) => format!("{s:.1}"),
                None => "–".to_owned(),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                g.backend.name(),
                cell(g.get(Imp::UowMarkers)),
                cell(g.get(Imp::UowNoMarkers)),
                ratio(g.ratio(Imp::UowMarkers, Imp::UowNoMarkers)),
                statements(Imp::UowMarkers),
                statements(Imp::UowNoMarkers),
            );
        }
        let _ = writeln!(out);
    }

    fn memory_table(&self, out: &mut String) {
        let groups =
            self.groups(|g| g.backend == Backend::SqliteMemory && g.get(Imp::InMemory).is_some());
        if groups.is_empty() {
            return;
        }
        let _ = writeln!(
            out,
            "### (5) the in-memory store against uow on SQLite in memory\n\n\
             | benchmark | uow in-memory store | uow on SQLite in memory | in-memory ÷ SQLite |\n\
             |---|---|---|---|"
        );
        for g in groups {
            let _ = writeln!(
                out,
                "| {} ({}) | {} | {} | {} |",
                g.bench.title(),
                g.bench.unit(),
                cell(g.get(Imp::InMemory)),
                cell(g.get(Imp::Uow)),
                ratio(g.ratio(Imp::InMemory, Imp::Uow)),
            );
        }
        let _ = writeln!(out);
    }

    fn targets(&self) -> Vec<Target> {
        let mut targets = Vec::new();
        let mut t = Target {
            rule: "(1), (2): uow ≥ 0.95 × hand-written sqlx".to_owned(),
            cases: Vec::new(),
        };
        for g in self.groups(|g| matches!(g.bench, Bench::Load | Bench::Deposit)) {
            if let Some(r) = g.ratio(Imp::Uow, Imp::Sqlx) {
                t.cases.push((
                    format!("{} {}", g.bench.key(), g.backend.name()),
                    r,
                    r >= 0.95,
                ));
            }
        }
        targets.push(t);
        let mut plain = Target {
            rule: "(1) uow ≥ 1.0 ×, (2) uow ≥ 1.5 × the plain hand-written transaction (PostgreSQL, MySQL/MariaDB)"
                .to_owned(),
            cases: Vec::new(),
        };
        for g in self.groups(|g| {
            matches!(g.bench, Bench::Load | Bench::Deposit)
                && matches!(g.backend, Backend::Postgres | Backend::MySql)
        }) {
            if let Some(r) = g.ratio(Imp::Uow, Imp::SqlxPlain) {
                let bar = if g.bench == Bench::Load { 1.0 } else { 1.5 };
                plain.cases.push((
                    format!("{} {}", g.bench.key(), g.backend.name()),
                    r,
                    r >= bar,
                ));
            }
        }
        targets.push(plain);
        let mut page = Target {
            rule: "(7): keyset page, uow ≥ 0.9 × hand-written sqlx".to_owned(),
            cases: Vec::new(),
        };
        for g in self.groups(|g| g.bench == Bench::Page) {
            if let Some(r) = g.ratio(Imp::Uow, Imp::Sqlx) {
                page.cases.push((g.backend.name().to_owned(), r, r >= 0.9));
            }
        }
        if !page.cases.is_empty() {
            targets.push(page);
        }
        let mut multi = Target {
            rule: "(3): uow ≥ 0.9 × hand-written multi-row INSERT".to_owned(),
            cases: Vec::new(),
        };
        let mut per_row = Target {
            rule: "(3): uow ≥ 20 × one INSERT per row".to_owned(),
            cases: Vec::new(),
        };
        for g in self.groups(|g| matches!(g.bench, Bench::Insert(_))) {
            let case = format!(
                "N = {} {}",
                thousands(g.bench.rows().unwrap_or(0)),
                g.backend.name()
            );
            if let Some(r) = g.ratio(Imp::Uow, Imp::Sqlx) {
                multi.cases.push((case.clone(), r, r >= 0.9));
            }
            if let Some(r) = g.ratio(Imp::Uow, Imp::SqlxRowByRow) {
                per_row.cases.push((case, r, r >= 20.0));
            }
        }
        targets.push(multi);
        targets.push(per_row);
        let mut update = Target {
            rule: "(4): uow ≥ 5 × one version-checked UPDATE per row (PostgreSQL, SQLite)"
                .to_owned(),
            cases: Vec::new(),
        };
        for g in self.groups(|g| matches!(g.bench, Bench::Update(_)) && g.backend != Backend::MySql)
        {
            if let Some(r) = g.ratio(Imp::Uow, Imp::SqlxRowByRow) {
                update
                    .cases
                    .push((g.backend.name().to_owned(), r, r >= 5.0));
            }
        }
        targets.push(update);
        let mut batched = Target {
            rule: "(4): uow ≥ 0.95 × the best hand-written batched version-checked UPDATE"
                .to_owned(),
            cases: Vec::new(),
        };
        for g in self.groups(|g| matches!(g.bench, Bench::Update(_))) {
            if let Some(r) = g.ratio(Imp::Uow, Imp::SqlxBatch) {
                batched
                    .cases
                    .push((g.backend.name().to_owned(), r, r >= 0.95));
            }
        }
        targets.push(batched);
        let mut children = Target {
            rule: "(7), (8): uow ≥ 0.9 × hand-written sqlx (child tables)".to_owned(),
            cases: Vec::new(),
        };
        for g in self.groups(|g| matches!(g.bench, Bench::ChildLoad | Bench::ChildChange)) {
            if let Some(r) = g.ratio(Imp::Uow, Imp::Sqlx) {
                children.cases.push((
                    format!("{} {}", g.bench.key(), g.backend.name()),
                    r,
                    r >= 0.9,
                ));
            }
        }
        targets.push(children);
        let mut memory = Target {
            rule: "(5): in-memory store ≥ 50 × SQLite in memory for (2)".to_owned(),
            cases: Vec::new(),
        };
        for g in self.groups(|g| g.bench == Bench::Deposit && g.backend == Backend::SqliteMemory) {
            if let Some(r) = g.ratio(Imp::InMemory, Imp::Uow) {
                memory.cases.push(("deposit".to_owned(), r, r >= 50.0));
            }
        }
        targets.push(memory);
        let mut sea = Target {
            rule: "uow ≥ SeaORM on every row".to_owned(),
            cases: Vec::new(),
        };
        for g in self.groups(|_| true) {
            if let Some(r) = g.ratio(Imp::Uow, Imp::SeaOrm) {
                let case = match g.bench.rows() {
                    Some(n) => format!(
                        "{} N = {} {}",
                        g.bench.key(),
                        thousands(n),
                        g.backend.name()
                    ),
                    None => format!("{} {}", g.bench.key(), g.backend.name()),
                };
                sea.cases.push((case, r, r >= 1.0));
            }
        }
        targets.push(sea);
        if let Some(c) = self.compile {
            let r = compile_time::median(&c.derived) / compile_time::median(&c.serde_only);
            targets.push(Target {
                rule: "compile time of 20 derived aggregates ≤ 1.5 × serde-only".to_owned(),
                cases: vec![("cargo build, touched source".to_owned(), r, r <= 1.5)],
            });
        }
        for (rule, cases) in crate::http::targets(self.http) {
            targets.push(Target { rule, cases });
        }
        targets.retain(|t| !t.cases.is_empty());
        targets
    }

    fn compile_section(&self, out: &mut String, c: &CompileTimes) {
        let d = compile_time::median(&c.derived);
        let s = compile_time::median(&c.serde_only);
        let n = compile_time::median(&c.noop);
        let range = |v: &[f64]| {
            let min = v.iter().copied().fold(f64::INFINITY, f64::min);
            let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            format!("{min:.2}–{max:.2}")
        };
        let _ = writeln!(
            out,
            "## Compile time\n\n\
             `benches/compile/derived`: 20 aggregates (11 fields each: a `#[derive(ColumnValue)]` id newtype,\n\
             version, `find_by` and `json` fields, `Option`, bytes, floats) with `#[derive(Aggregate, Clone, Debug)]`;\n\
             `benches/compile/serde-only`: the same structs with `#[derive(Serialize, Deserialize, Clone, Debug)]`.\n\
             Each is rebuilt with `cargo build -p <crate>` after touching its source, dependencies built\n\
             beforehand; {}; {} timed builds each, interleaved.\n\n\
             | crate | build time (median, s) | min–max (s) |\n|---|---|---|\n\
             | 20 aggregates, `#[derive(Aggregate)]` | **{d:.2}** | {} |\n\
             | same structs, serde derives only | **{s:.2}** | {} |\n\
             | `cargo build` with nothing to do (cargo's own share of both) | {n:.2} | {} |\n\n\
             Ratio derived ÷ serde-only: **{:.2}×** (without cargo's own share: {:.2}×).\n",
            c.profile,
            c.derived.len(),
            range(&c.derived),
            range(&c.serde_only),
            range(&c.noop),
            d / s,
            (d - n) / (s - n),
        );
    }
}
