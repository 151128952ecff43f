//! uow against hand-written sqlx and SeaORM, side by side in one run, and
//! the compile-time cost of the derives; writes `BENCHMARKS.md` at the
//! repository root.
//!
//! ```sh
//! cargo run --release --manifest-path benches/Cargo.toml
//! ```

mod backends;
mod children;
mod compile_time;
mod dirty;
mod handwritten;
mod harness;
mod model;
mod report;
mod seaorm;
mod uow;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use backends::{Backend, Database};
use handwritten::BoxError;
use harness::{Bench, Group, Imp, Plan, Subject, implementations, seeded_memory_store};
use report::{Environment, Report};
use seaorm::SeaOrm;

const USAGE: &str = "\
usage: uow-benches [--runs N] [--warmup N] [--run-ms N]
                   [--backends sqlite,sqlite-memory,postgres,mysql]
                   [--benches load,deposit,insert,update,page,children] [--skip-compile | --compile-only]
                   [--output PATH]
       uow-benches --profile BACKEND BENCH IMPL SECONDS
         (IMPL: uow, sqlx, sqlx-row, sqlx-batch, seaorm, memory; loops one case for a profiler)
       uow-benches --dirty [--runs N]
         (the commit's dirty check: time per unchanged tracked aggregate, 1 … 100,000)";

struct Options {
    plan: Plan,
    backends: Vec<Backend>,
    benches: Vec<String>,
    compile: bool,
    output: PathBuf,
    profile: Option<(Backend, Bench, Imp, Duration)>,
    dirty: bool,
}

fn benches_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn parse_backend(key: &str) -> Result<Backend, BoxError> {
    Backend::ALL
        .into_iter()
        .find(|b| b.key() == key)
        .ok_or_else(|| format!("unknown backend `{key}`\n{USAGE}").into())
}

fn parse_bench(key: &str) -> Result<Bench, BoxError> {
    Ok(match key {
        "load" => Bench::Load,
        "deposit" => Bench::Deposit,
        "insert" => Bench::Insert(1_000),
        "update" => Bench::Update(1_000),
        "page" => Bench::Page,
        "child-load" => Bench::ChildLoad,
        "child-change" => Bench::ChildChange,
        _ => match key.split_once('-') {
            Some(("insert", n)) => Bench::Insert(n.parse()?),
            Some(("update", n)) => Bench::Update(n.parse()?),
            _ => return Err(format!("unknown benchmark `{key}`\n{USAGE}").into()),
        },
    })
}

fn parse_options() -> Result<Options, BoxError> {
    let mut options = Options {
        plan: Plan {
            warmup: 1,
            runs: 15,
            run_time: Duration::from_millis(150),
        },
        backends: Backend::ALL.to_vec(),
        benches: ["load", "deposit", "insert", "update", "page", "children"]
            .map(String::from)
            .to_vec(),
        compile: true,
        output: benches_dir().join("../BENCHMARKS.md"),
        profile: None,
        dirty: false,
    };
    let mut args = std::env::args().skip(1);
    let number = |v: Option<String>| -> Result<u64, BoxError> {
        Ok(v.ok_or(USAGE)?
            .parse::<u64>()
            .map_err(|e| format!("{e}\n{USAGE}"))?)
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--runs" => options.plan.runs = number(args.next())?.max(1) as usize,
            "--warmup" => options.plan.warmup = number(args.next())? as usize,
            "--run-ms" => options.plan.run_time = Duration::from_millis(number(args.next())?),
            "--backends" => {
                options.backends = args
                    .next()
                    .ok_or(USAGE)?
                    .split(',')
                    .map(parse_backend)
                    .collect::<Result<_, _>>()?
            }
            "--benches" => {
                options.benches = args
                    .next()
                    .ok_or(USAGE)?
                    .split(',')
                    .map(String::from)
                    .collect()
            }
            "--skip-compile" => options.compile = false,
            "--compile-only" => options.backends.clear(),
            "--output" => options.output = PathBuf::from(args.next().ok_or(USAGE)?),
            "--profile" => {
                let backend = parse_backend(&args.next().ok_or(USAGE)?)?;
                let bench = parse_bench(&args.next().ok_or(USAGE)?)?;
                let imp_key = args.next().ok_or(USAGE)?;
                let imp = Imp::parse(&imp_key)
                    .ok_or_else(|| format!("unknown implementation `{imp_key}`\n{USAGE}"))?;
                let seconds = number(args.next())?;
                options.profile = Some((backend, bench, imp, Duration::from_secs(seconds)));
            }
            "--dirty" => options.dirty = true,
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument `{other}`\n{USAGE}").into()),
        }
    }
    Ok(options)
}

fn command_output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn load_average() -> String {
    read("/proc/loadavg")
        .split_whitespace()
        .next()
        .unwrap_or("?")
        .to_owned()
}

/// Versions of the crates that matter, from the benchmark's lock file.
fn crate_versions() -> Vec<(String, String)> {
    let lock = read(&benches_dir().join("Cargo.lock").display().to_string());
    let mut out = Vec::new();
    for name in ["sqlx", "sea-orm", "sea-query", "tokio"] {
        let mut lines = lock.lines();
        while let Some(line) = lines.next() {
            if line == format!("name = \"{name}\"") {
                if let Some(v) = lines.next().and_then(|l| l.strip_prefix("version = ")) {
                    out.push((name.to_owned(), v.trim_matches('"').to_owned()));
                }
                break;
            }
        }
    }
    out
}

fn environment(command: String) -> Environment {
    let cpuinfo = read("/proc/cpuinfo");
    let cpu = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "unknown".to_owned());
    let memory = read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|l| l.split_whitespace().next()?.parse::<f64>().ok())
        .map(|kb| format!("{:.0} GiB", kb / 1024.0 / 1024.0))
        .unwrap_or_else(|| "unknown".to_owned());
    let commit = command_output(
        "git",
        &[
            "-C",
            &benches_dir().display().to_string(),
            "rev-parse",
            "--short",
            "HEAD",
        ],
    )
    .map(|c| {
        let dirty = command_output(
            "git",
            &[
                "-C",
                &benches_dir().display().to_string(),
                "status",
                "--porcelain",
                "--untracked-files=no",
            ],
        )
        .is_some_and(|s| !s.is_empty());
        if dirty {
            format!("{c} (with uncommitted changes)")
        } else {
            c
        }
    })
    .unwrap_or_else(|| "unknown".to_owned());
    Environment {
        date: command_output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]).unwrap_or_default(),
        commit,
        cpu,
        cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
        memory,
        os: format!(
            "{} {}",
            read("/proc/sys/kernel/ostype").trim(),
            read("/proc/sys/kernel/osrelease").trim()
        ),
        rustc: command_output("rustc", &["-V"]).unwrap_or_default(),
        crates: crate_versions(),
        servers: Vec::new(),
        load_before: load_average(),
        load_after: String::new(),
        duration: Duration::ZERO,
        command,
    }
}

/// The benchmarks selected, in the order they run.
fn selected(keys: &[String]) -> Vec<Bench> {
    let mut benches = Vec::new();
    for key in keys {
        match key.as_str() {
            "load" => benches.push(Bench::Load),
            "deposit" => benches.push(Bench::Deposit),
            "insert" => benches.extend([Bench::Insert(1_000), Bench::Insert(10_000)]),
            "update" => benches.push(Bench::Update(1_000)),
            "page" => benches.push(Bench::Page),
            "children" => benches.extend([Bench::ChildLoad, Bench::ChildChange]),
            other => {
                if let Ok(b) = parse_bench(other) {
                    benches.push(b);
                }
            }
        }
    }
    benches
}

async fn run_backend(
    backend: Backend,
    benches: &[Bench],
    plan: Plan,
    groups: &mut Vec<Group>,
) -> Result<String, BoxError> {
    let db = Database::open(backend).await?;
    let version = db.server_version.clone();
    let sea = SeaOrm::new(db.sea.clone(), backend.is_sqlite());
    let mut subject = Subject {
        db: &db,
        sea: &sea,
        memory: seeded_memory_store().await?,
        cursors: Vec::new(),
    };
    for &bench in benches {
        let imps = implementations(bench, backend);
        let started = Instant::now();
        let group = subject.measure(bench, &imps, plan).await?;
        eprintln!(
            "{:<18} {:<55} {:>5.1} s  {}",
            backend.name(),
            bench.title(),
            started.elapsed().as_secs_f64(),
            group
                .measurements
                .iter()
                .map(|m| format!("{} {:.0}", m.imp.key(), m.median()))
                .collect::<Vec<_>>()
                .join("  ")
        );
        groups.push(group);
    }
    db.close().await;
    Ok(version)
}

async fn profile(
    backend: Backend,
    bench: Bench,
    imp: Imp,
    duration: Duration,
) -> Result<(), BoxError> {
    let db = Database::open(backend).await?;
    let sea = SeaOrm::new(db.sea.clone(), backend.is_sqlite());
    let mut subject = Subject {
        db: &db,
        sea: &sea,
        memory: seeded_memory_store().await?,
        cursors: Vec::new(),
    };
    let plan = Plan {
        warmup: 0,
        runs: 1,
        run_time: Duration::from_millis(500),
    };
    let start = Instant::now();
    let mut samples = Vec::new();
    while start.elapsed() < duration {
        samples.push(subject.run_once(bench, imp, plan).await?.0);
    }
    samples.sort_by(f64::total_cmp);
    eprintln!(
        "{} {} {}: median {:.0} {} over {} runs",
        backend.name(),
        bench.title(),
        imp.name(),
        samples[samples.len() / 2],
        bench.unit(),
        samples.len()
    );
    db.close().await;
    Ok(())
}

async fn run(options: Options) -> Result<(), BoxError> {
    if let Some((backend, bench, imp, duration)) = options.profile {
        return profile(backend, bench, imp, duration).await;
    }
    if options.dirty {
        return Ok(dirty::print(options.plan.runs).await?);
    }
    let command =
        std::iter::once("cargo run --release --manifest-path benches/Cargo.toml".to_owned())
            .chain(std::env::args().skip(1).map(|a| a.to_string()))
            .collect::<Vec<_>>();
    let command = if command.len() > 1 {
        format!("{} -- {}", command[0], command[1..].join(" "))
    } else {
        command[0].clone()
    };
    let mut env = environment(command);
    let started = Instant::now();
    let benches = selected(&options.benches);
    let mut groups = Vec::new();
    let mut skipped = Vec::new();
    for &backend in &options.backends {
        match run_backend(backend, &benches, options.plan, &mut groups).await {
            Ok(version) => env.servers.push((backend, version)),
            Err(e) if !backend.is_sqlite() => {
                eprintln!("{}: skipped ({e})", backend.name());
                skipped.push((backend, e.to_string()));
            }
            Err(e) => return Err(e),
        }
    }
    let compile = if options.compile {
        let dir = benches_dir();
        let runs = options.plan.runs;
        Some(tokio::task::spawn_blocking(move || compile_time::measure(&dir, runs)).await??)
    } else {
        None
    };
    env.load_after = load_average();
    env.duration = started.elapsed();
    let analysis = std::fs::read_to_string(benches_dir().join("analysis.md")).ok();
    // The broker section (written by `benches/brokers`) is kept, before the
    // analysis, between the markers that benchmark looks for.
    let analysis = match std::fs::read_to_string(benches_dir().join("brokers.md")) {
        Ok(brokers) => Some(format!(
            "<!-- brokers: written by benches/brokers -->\n{brokers}<!-- end of brokers -->\n\n{}",
            analysis.unwrap_or_default()
        )),
        Err(_) => analysis,
    };
    let report = Report {
        env: &env,
        plan: options.plan,
        groups: &groups,
        compile: compile.as_ref(),
        skipped: &skipped,
        analysis,
    };
    let text = report.render();
    std::fs::write(&options.output, &text)?;
    eprintln!(
        "wrote {} ({:.0} s)",
        display(&options.output),
        env.duration.as_secs_f64()
    );
    Ok(())
}

fn display(path: &Path) -> String {
    path.canonicalize()
        .unwrap_or_else(|_| path.to_owned())
        .display()
        .to_string()
}

fn main() -> ExitCode {
    let options = match parse_options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    // The benchmark runs in a task on a worker thread, as a service's request
    // handlers do (not on the thread that blocks on the runtime): a task it
    // spawns starts on the same thread.
    match runtime.block_on(async { tokio::spawn(run(options)).await }) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
