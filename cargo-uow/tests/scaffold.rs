//! `cargo uow new` and `cargo uow add aggregate`: the templates keep the
//! flagship's structure, field specifications parse, and a generated service
//! builds, passes clippy, fmt and its tests, before and after adding two
//! aggregates; `cargo uow migration new` writes migrations the service
//! applies at start-up on PostgreSQL and MariaDB/MySQL.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use cargo_uow::{Field, FieldType, Modifier, TEMPLATES, parse_field};

fn checkout() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace")
        .to_owned()
}

/// Every source module of the templates is a module of the flagship crate
/// of the same role (domain, service, adapters), and the crates are named
/// alike (`NAME-domain`, `NAME-service`, `NAME-adapters` building the
/// binary `NAME`), so the two do not drift.
#[test]
fn the_templates_have_the_flagships_structure() {
    let flagship = checkout().join("examples/allocation");
    let mut checked = 0;
    for (path, template) in TEMPLATES {
        let Some((role, rest)) = path.split_once('/') else {
            continue;
        };
        if !["domain", "service", "adapters"].contains(&role) {
            continue;
        }
        if rest == "Cargo.toml" {
            let expected = match role {
                "domain" => "name = \"{{name}}-domain\"",
                "service" => "name = \"{{name}}-service\"",
                _ => "name = \"{{name}}-adapters\"",
            };
            assert!(template.contains(expected), "{path}: {expected}");
            let flagship_name = expected.replace("{{name}}", "allocation");
            let flagship_toml =
                std::fs::read_to_string(flagship.join(role).join("Cargo.toml")).expect("read");
            assert!(
                flagship_toml.contains(&flagship_name),
                "flagship {role}: {flagship_name}"
            );
            if role == "adapters" {
                let bin = "[[bin]]\nname = \"{{name}}\"";
                assert!(template.contains(bin), "{path}: {bin}");
                let flagship_bin = bin.replace("{{name}}", "allocation");
                assert!(
                    flagship_toml.contains(&flagship_bin),
                    "flagship adapters: {flagship_bin}"
                );
            }
        } else if rest.starts_with("src/") {
            assert!(
                flagship.join(role).join(rest).exists(),
                "{path}: the flagship has no {role}/{rest}"
            );
        } else if rest.starts_with("tests/") {
            assert!(
                flagship.join(role).join("tests").is_dir(),
                "{path}: the flagship's {role} crate has no tests"
            );
        }
        checked += 1;
    }
    assert!(checked >= 18, "only {checked} templates checked");
    // The domain crate depends on uow-core only, as the flagship's.
    let domain = TEMPLATES
        .iter()
        .find(|(p, _)| *p == "domain/Cargo.toml")
        .expect("domain");
    assert!(!domain.1.contains("uow-sqlx") && !domain.1.contains("uow-testing"));
}

#[test]
fn field_specifications_parse() {
    assert_eq!(
        parse_field("status:enum(Draft|Paid):find_by").expect("parse"),
        Field {
            name: "status".into(),
            ty: FieldType::Enum(vec!["Draft".into(), "Paid".into()]),
            modifiers: vec![Modifier::FindBy],
        }
    );
    assert_eq!(
        parse_field("note:string:optional:unique").expect("parse"),
        Field {
            name: "note".into(),
            ty: FieldType::String,
            modifiers: vec![Modifier::Optional, Modifier::Unique],
        }
    );
    for (spec, says) in [
        ("total", "expected name:type"),
        ("total:money", "unknown type `money`"),
        ("total:decimal:indexed", "unknown modifier `indexed`"),
        ("Total:decimal", "not a usable field name"),
        ("version:int", "not a usable field name"),
        ("s:enum(draft|Paid)", "CamelCase"),
        ("s:enum(Draft", "without )"),
    ] {
        let err = parse_field(spec).expect_err(spec).to_string();
        assert!(err.contains(says), "{spec}: {err}");
    }
}

/// This workspace's target directory, which generated projects share.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| checkout().join("target"))
}

fn cargo_uow(dir: &Path, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_cargo-uow"))
        .arg("uow")
        .args(args)
        .current_dir(dir)
        // `migration new` builds the project: in the shared target directory.
        .env("CARGO_TARGET_DIR", target_dir())
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo-uow runs");
    assert!(
        output.status.success(),
        "cargo uow {args:?}:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Runs cargo in `dir` with the shared target directory; its output.
fn cargo(dir: &Path, target: &Path, args: &[&str]) -> String {
    let started = Instant::now();
    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo runs");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "cargo {args:?} in {}:\n{text}",
        dir.display()
    );
    eprintln!("cargo {args:?}: {:.1?}", started.elapsed());
    text
}

/// Must show 1 and 3 of #17: a service generated with `--uow-path` on this
/// checkout passes `cargo test` (its HTTP tests answer requests in-process
/// and over a real socket on SQLite), `cargo clippy -- -D warnings` and
/// `cargo fmt --check`; then two aggregates are added (one with a decimal, a
/// uuid, a datetime, an enum and a find_by; one with a unique field) and its
/// tests pass again, their round-trip and conflict tests included. The
/// generated project builds in this workspace's target directory, with this
/// workspace's `Cargo.lock`, so it reuses the compiled dependencies.
#[test]
fn a_generated_service_builds_and_passes_its_tests_before_and_after_adding_aggregates() {
    let started = Instant::now();
    let checkout = checkout();
    let target = target_dir();
    let temp = tempfile::tempdir().expect("temp dir");
    cargo_uow(
        temp.path(),
        &[
            "new",
            "shop",
            "--uow-path",
            checkout.to_str().expect("utf-8"),
        ],
    );
    let shop = temp.path().join("shop");
    for file in [
        "Cargo.toml",
        "Cargo.lock",
        "README.md",
        ".gitignore",
        ".ci/run",
        "domain/src/model.rs",
        "service/src/unit_of_work.rs",
        "adapters/src/main.rs",
    ] {
        assert!(shop.join(file).exists(), "{file} written");
    }

    let tests = cargo(&shop, &target, &["test", "--workspace"]);
    for test in [
        "in_memory::a_created_item_is_stored ... ok",
        "sqlite::a_rename_against_a_stale_version_is_refused ... ok",
        "the_api_creates_reads_and_renames_on_sqlite ... ok",
        "the_service_answers_over_a_socket_on_sqlite ... ok",
    ] {
        assert!(tests.contains(test), "{test}:\n{tests}");
    }
    cargo(
        &shop,
        &target,
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    );
    cargo(&shop, &target, &["fmt", "--all", "--check"]);

    cargo_uow(
        &shop,
        &[
            "add",
            "aggregate",
            "Invoice",
            "total:decimal",
            "customer:uuid",
            "issued:datetime",
            "status:enum(Draft|Sent|Paid):find_by",
            "note:string:optional",
        ],
    );
    cargo_uow(
        &shop,
        &[
            "add",
            "aggregate",
            "Account",
            "email:string:unique",
            "active:bool",
            "opened:date",
            "settings:json",
            "balance:bigint",
        ],
    );
    let tests = cargo(&shop, &target, &["test", "--workspace"]);
    for test in [
        "in_memory::invoice_round_trips ... ok",
        "sqlite::invoice_round_trips ... ok",
        "sqlite::invoice_changed_by_two_units_of_work_conflicts ... ok",
        "sqlite::account_round_trips ... ok",
        "in_memory::account_changed_by_two_units_of_work_conflicts ... ok",
    ] {
        assert!(tests.contains(test), "{test}:\n{tests}");
    }
    cargo(
        &shop,
        &target,
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    );
    cargo(&shop, &target, &["fmt", "--all", "--check"]);
    eprintln!(
        "generated, tested, extended and tested again in {:.1?}",
        started.elapsed()
    );
    migrations_apply_and_grow_by_a_column(&shop, &target);
}

/// A database server the migration steps run on: its name and the variable
/// of its test URL.
struct Server {
    name: &'static str,
    variable: &'static str,
}

const SERVERS: [Server; 2] = [
    Server {
        name: "postgres",
        variable: "UOW_TEST_POSTGRES_URL",
    },
    Server {
        name: "mysql",
        variable: "UOW_TEST_MYSQL_URL",
    },
];

/// The test URL of `server`, or `None` (said on stderr) when it is not set;
/// under `CI=true` a missing URL fails the test.
fn server_url(server: &Server) -> Option<String> {
    match std::env::var(server.variable) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") => {
            panic!(
                "{} is not set, and CI=true requires the migration test on {}",
                server.variable, server.name
            )
        }
        _ => {
            eprintln!(
                "note: `cargo uow migration new` on {} skipped: {} is not set",
                server.name, server.variable
            );
            None
        }
    }
}

/// `url` with its database (the last path segment) replaced by `database`.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[start..].find('/') {
        Some(slash) => &base[..start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{database}?{query}"),
        None => format!("{base}/{database}"),
    }
}

/// Runs one statement on the server of `url` (creating or dropping this
/// test's own database).
fn admin(url: &str, statement: String) {
    use sqlx::Connection;
    use sqlx::Executor;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let statement = sqlx::AssertSqlSafe(statement);
        if url.starts_with("postgres") {
            let mut conn = sqlx::PgConnection::connect(url)
                .await
                .expect("connect to PostgreSQL");
            conn.execute(statement).await.expect("admin statement");
        } else {
            let mut conn = sqlx::MySqlConnection::connect(url)
                .await
                .expect("connect to MySQL");
            conn.execute(statement).await.expect("admin statement");
        }
    });
}

/// Starts the service's binary on `url` in `shop` (so it applies
/// `shop/migrations` and verifies its tables), waits until it listens or
/// exits, then stops it; a panic with its log if it did not start.
fn service_starts(shop: &Path, target: &Path, url: &str) {
    let mut child = Command::new(target.join("debug/shop"))
        .args(["--bind", "127.0.0.1:0"])
        .current_dir(shop)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the service starts");
    let mut log = String::new();
    let mut listening = false;
    for line in BufReader::new(child.stderr.take().expect("stderr")).lines() {
        let line = line.expect("a log line");
        log.push_str(&line);
        log.push('\n');
        if line.contains("listening on") {
            listening = true;
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(listening, "the service did not start on {url}:\n{log}");
}

/// The migration files of `shop`, sorted.
fn migration_files(shop: &Path) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(shop.join("migrations"))
        .map(|dir| {
            dir.map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// Must show 2 of #17, on each server whose test URL is set (a database of
/// its own, dropped at the end): `cargo uow migration new init` writes a
/// file that the service applies at start-up with sqlx's `Migrator`, after
/// which its `verify_tables` passes (it listens); after a field is added
/// to the domain, the next migration is one `ALTER TABLE … ADD COLUMN`,
/// which the service applies; then nothing is left to migrate, and no file
/// is written. Each server keeps its migrations in a directory of its own
/// (moved in and out of `migrations/`): their SQL is the database's.
fn migrations_apply_and_grow_by_a_column(shop: &Path, target: &Path) {
    let started = Instant::now();
    let database = format!("uow_mig_{}", std::process::id());
    let servers: Vec<(&Server, String)> = SERVERS
        .iter()
        .filter_map(|s| server_url(s).map(|url| (s, url)))
        .collect();
    let park = |server: &Server| shop.join(format!("migrations.{}", server.name));
    for (server, url) in &servers {
        admin(url, format!("CREATE DATABASE {database}"));
        let url = with_database(url, &database);
        let dry = cargo_uow(
            shop,
            &[
                "migration",
                "new",
                "init",
                "--dry-run",
                "--database-url",
                &url,
            ],
        );
        assert!(
            dry.contains("CREATE TABLE") && dry.contains("items"),
            "{dry}"
        );
        assert!(migration_files(shop).is_empty(), "--dry-run writes nothing");
        let wrote = cargo_uow(shop, &["migration", "new", "init", "--database-url", &url]);
        assert!(wrote.contains("_init.sql"), "{wrote}");
        assert_eq!(migration_files(shop).len(), 1);
        service_starts(shop, target, &url);
        std::fs::rename(shop.join("migrations"), park(server)).expect("park the migrations");
    }
    // A release adds a field to the item.
    let model = shop.join("domain/src/model.rs");
    let text = std::fs::read_to_string(&model).expect("model");
    let grown = text
        .replacen(
            "    pub name: String,\n",
            "    pub name: String,\n    /// A note about the item.\n    pub note: Option<String>,\n",
            1,
        )
        .replacen("            name: name.to_owned(),\n            events", "            name: name.to_owned(),\n            note: None,\n            events", 1);
    assert_ne!(
        grown, text,
        "the item's model changed shape: update this test"
    );
    std::fs::write(&model, grown).expect("model");
    for (server, url) in &servers {
        let url = with_database(url, &database);
        std::fs::rename(park(server), shop.join("migrations")).expect("unpark the migrations");
        std::thread::sleep(std::time::Duration::from_secs(1)); // a new timestamp
        cargo_uow(
            shop,
            &["migration", "new", "add_item_note", "--database-url", &url],
        );
        let files = migration_files(shop);
        assert_eq!(files.len(), 2, "{files:?}");
        let sql = std::fs::read_to_string(shop.join("migrations").join(&files[1])).expect("read");
        let statements: Vec<&str> = sql.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(statements.len(), 1, "{}: {sql}", server.name);
        assert!(
            statements[0].starts_with("ALTER TABLE")
                && statements[0].contains("ADD COLUMN")
                && statements[0].contains("note"),
            "{}: {sql}",
            server.name
        );
        service_starts(shop, target, &url);
        let again = cargo_uow(shop, &["migration", "new", "again", "--database-url", &url]);
        assert!(again.contains("nothing to migrate"), "{again}");
        assert_eq!(migration_files(shop).len(), 2, "nothing written");
        std::fs::rename(shop.join("migrations"), park(server)).expect("park the migrations");
    }
    std::fs::write(&model, text).expect("model");
    for (server, url) in &servers {
        let drop = match server.name {
            "postgres" => format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"),
            _ => format!("DROP DATABASE IF EXISTS {database}"),
        };
        admin(url, drop);
    }
    eprintln!(
        "migrations on {} server(s) in {:.1?}",
        servers.len(),
        started.elapsed()
    );
}
