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
mod curves;
mod dirty;
mod features;
mod handwritten;
mod harness;
mod http;
mod model;
mod plot;
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
                   [--benches load,deposit,insert,update,page,children,features,curves,http]
                   [--skip-compile | --compile-only] [--output PATH] [--plots DIR]
       uow-benches --profile BACKEND BENCH IMPL SECONDS
         (IMPL: uow, sqlx, sqlx-row, sqlx-batch, seaorm, memory; loops one case for a profiler)
       uow-benches --profile-http uow|hand|hand-as-flagship SECONDS
         (loads one HTTP service alone on PostgreSQL, for a profiler)
       uow-benches --dirty [--runs N]
         (the commit's dirty check: time per unchanged tracked aggregate, 1 … 100,000)";

struct Options {
    plan: Plan,
    backends: Vec<Backend>,
    benches: Vec<String>,
    compile: bool,
    output: PathBuf,
    /// Where the scale curves' charts go (`--plots`); by default
    /// `benches/plots` for the default output, else `<output>-plots` next
    /// to the output.
    plots: Option<PathBuf>,
    profile: Option<(Backend, Bench, Imp, Duration)>,
    profile_http: Option<(String, Duration)>,
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
        "outcome" => Bench::Outcome,
        "inbox" => Bench::Inbox,
        "inbox-repeat" => Bench::InboxRepeat,
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
        benches: [
            "load", "deposit", "insert", "update", "page", "children", "features", "curves", "http",
        ]
        .map(String::from)
        .to_vec(),
        compile: true,
        output: benches_dir().join("../BENCHMARKS.md"),
        plots: None,
        profile: None,
        profile_http: None,
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
            "--plots" => options.plots = Some(PathBuf::from(args.next().ok_or(USAGE)?)),
            "--profile" => {
                let backend = parse_backend(&args.next().ok_or(USAGE)?)?;
                let bench = parse_bench(&args.next().ok_or(USAGE)?)?;
                let imp_key = args.next().ok_or(USAGE)?;
                let imp = Imp::parse(&imp_key)
                    .ok_or_else(|| format!("unknown implementation `{imp_key}`\n{USAGE}"))?;
                let seconds = number(args.next())?;
                options.profile = Some((backend, bench, imp, Duration::from_secs(seconds)));
            }
            "--profile-http" => {
                let service = args.next().ok_or(USAGE)?;
                let seconds = number(args.next())?;
                options.profile_http = Some((service, Duration::from_secs(seconds)));
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
            "features" => benches.extend([Bench::Outcome, Bench::Inbox, Bench::InboxRepeat]),
            // Not a table of implementations: `curves::measure`.
            "curves" => {}
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
    curves: Option<&mut Vec<curves::BackendCurves>>,
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
    if let Some(curves) = curves {
        curves.push(curves::measure(&db, plan).await?);
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
    let mut operations = 0;
    while start.elapsed() < duration {
        let (rate, done) = subject.run_once(bench, imp, plan).await?;
        samples.push(rate);
        operations += done;
    }
    samples.sort_by(f64::total_cmp);
    // The number of operations lets a profiler's totals of two runs of
    // different lengths be turned into a cost per operation.
    eprintln!(
        "{} {} {}: median {:.0} {} over {} runs ({operations} operations)",
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
    if let Some((service, duration)) = options.profile_http {
        return http::profile(&service, duration).await;
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
    let with_curves = options.benches.iter().any(|b| b == "curves");
    let mut curves = Vec::new();
    for &backend in &options.backends {
        let curves = with_curves.then_some(&mut curves);
        match run_backend(backend, &benches, options.plan, &mut groups, curves).await {
            Ok(version) => env.servers.push((backend, version)),
            Err(e) if !backend.is_sqlite() => {
                eprintln!("{}: skipped ({e})", backend.name());
                skipped.push((backend, e.to_string()));
            }
            Err(e) => return Err(e),
        }
    }
    // The HTTP comparison (PostgreSQL only): after the others, on databases
    // of its own.
    let mut http = Vec::new();
    if options.benches.iter().any(|b| b == "http") && options.backends.contains(&Backend::Postgres)
    {
        let started = Instant::now();
        match http::run(options.plan.runs).await {
            Ok(outcomes) => {
                for o in &outcomes {
                    eprintln!(
                        "PostgreSQL         HTTP POST /allocate, {:<9} load {:>26.1} s  uow ÷ hand-written {:.2}",
                        o.load,
                        started.elapsed().as_secs_f64(),
                        o.rate_ratio()
                    );
                }
                http = outcomes;
            }
            Err(e) => eprintln!("http: skipped ({e})"),
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
    let plots_dir = plots_dir(&options);
    curves::write_plots(&curves, &plots_dir)?;
    let plots = curves::Plots {
        link: relative_link(&options.output, &plots_dir),
    };
    let report = Report {
        env: &env,
        plan: options.plan,
        groups: &groups,
        compile: compile.as_ref(),
        skipped: &skipped,
        http: &http,
        analysis,
        curves: &curves,
        plots: &plots,
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

/// The directory of the scale curves' charts: `--plots`, else
/// `benches/plots` for the default output, else `<output>-plots` beside it.
fn plots_dir(options: &Options) -> PathBuf {
    if let Some(dir) = &options.plots {
        return dir.clone();
    }
    if options.output == benches_dir().join("../BENCHMARKS.md") {
        return benches_dir().join("plots");
    }
    let stem = options
        .output
        .file_stem()
        .map_or("benchmarks".into(), |s| s.to_string_lossy());
    options.output.with_file_name(format!("{stem}-plots"))
}

/// `dir` as the Markdown file `output` links to it: relative to the file's
/// directory where it is below it, else absolute.
fn relative_link(output: &Path, dir: &Path) -> String {
    let base = output
        .parent()
        .map(|p| {
            if p.as_os_str().is_empty() {
                Path::new(".")
            } else {
                p
            }
        })
        .and_then(|p| p.canonicalize().ok());
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_owned());
    match base.as_ref().and_then(|b| dir.strip_prefix(b).ok()) {
        Some(rel) => rel.display().to_string(),
        None => dir.display().to_string(),
    }
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
