//! `cargo uow new` and `cargo uow add aggregate`: the templates keep the
//! flagship's structure, field specifications parse, and a generated service
//! builds, passes clippy, fmt and its tests, before and after adding two
//! aggregates.

use std::path::{Path, PathBuf};
use std::process::Command;
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

fn cargo_uow(dir: &Path, args: &[&str]) {
    let output = Command::new(env!("CARGO_BIN_EXE_cargo-uow"))
        .arg("uow")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("cargo-uow runs");
    assert!(
        output.status.success(),
        "cargo uow {args:?}:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
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
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| checkout.join("target"));
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
}
