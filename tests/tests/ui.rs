//! Compile-time diagnostics of the macros: every misuse in `ui/` is one
//! clear compile error at the attribute, field or type at fault (checked
//! against its reviewed `.stderr`), and the inputs in `ui/pass/` compile.
//!
//! Regenerate the expected output after a deliberate change to a message with
//! `TRYBUILD=overwrite cargo test -p uow-tests --test ui`, then read every
//! changed `.stderr` as a user would before keeping it. `UOW_UI=<glob>` (for
//! example `UOW_UI='ui/unit_of_work/derives-*.rs'`) runs only the matching
//! cases, for working on a few messages.

use std::path::Path;

/// No expected output may show a name the user did not write and could
/// not write: a `__`-prefixed identifier or a path through `__private`.
#[test]
fn no_generated_names_in_diagnostics() {
    let mut offenders = Vec::new();
    for stderr in files_with_extension(Path::new("ui"), "stderr") {
        let text = std::fs::read_to_string(&stderr).expect("readable .stderr");
        let hidden = text.contains("__private")
            || text
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .any(|word| word.starts_with("__"));
        if hidden {
            offenders.push(stderr.display().to_string());
        }
    }
    assert!(offenders.is_empty(), "generated names in: {offenders:#?}");
}

/// Each compile-fail case holds one mistake and shows one error (a case
/// named `two-mistakes-...` shows two, `three-mistakes-...` three).
#[test]
fn one_error_per_mistake() {
    let mut offenders = Vec::new();
    for stderr in files_with_extension(Path::new("ui"), "stderr") {
        let text = std::fs::read_to_string(&stderr).expect("readable .stderr");
        let errors = text
            .lines()
            .filter(|line| line.starts_with("error[") || line.starts_with("error:"))
            .count();
        let name = stderr.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        let mistakes = if name.starts_with("three-mistakes") {
            3
        } else if name.starts_with("two-mistakes") {
            2
        } else {
            1
        };
        if errors != mistakes {
            offenders.push(format!("{}: {errors} errors", stderr.display()));
        }
    }
    assert!(offenders.is_empty(), "{offenders:#?}");
}

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    if let Ok(only) = std::env::var("UOW_UI") {
        if only.starts_with("ui/pass/") {
            t.pass(only);
        } else {
            t.compile_fail(only);
        }
        return;
    }
    t.compile_fail("ui/aggregate/*.rs");
    t.compile_fail("ui/unit_of_work/*.rs");
    t.compile_fail("ui/entity/*.rs");
    t.compile_fail("ui/column_value/*.rs");
    t.compile_fail("ui/query/*.rs");
    t.pass("ui/pass/*.rs");
}

/// A crate that depends on `uow-core` under another name
/// (`uow = { package = "uow-core" }`, in `renamed-dependency/`) compiles
/// without `crate = "..."`: the macros find the name in its manifest.
#[test]
fn a_renamed_dependency_is_found_from_the_manifest() {
    let output = cargo_check("renamed-dependency");
    assert!(
        output.status.success(),
        "the crate with a renamed dependency does not compile:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A crate that reaches uow-core only through another crate's re-export
/// (`missing-dependency/`) and writes no `crate = "..."` gets one error,
/// saying what to write, and not one per field.
#[test]
fn a_missing_dependency_is_one_error_with_the_fix() {
    let output = cargo_check("missing-dependency");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "compiled:\n{stderr}");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|line| line.starts_with("error") && !line.starts_with("error: could not compile"))
        .collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].contains("this crate does not depend on `uow-core`")
            && stderr.contains("#[aggregate(crate = \"other_crate::uow_core\")]"),
        "{stderr}"
    );
}

/// A crate that stores a `time` type without uow-core's `time` feature
/// (`missing-feature/`) is told to enable the feature, in one error at the
/// field's type, rather than that the type has no column mapping.
#[test]
fn a_type_of_a_feature_that_is_off_is_told_to_enable_it() {
    let output = cargo_check("missing-feature");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "compiled:\n{stderr}");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|line| line.starts_with("error") && !line.starts_with("error: could not compile"))
        .collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].contains("is stored with uow-core's `time` feature, which is off: enable it")
            && stderr.contains("pub listed_at: time::OffsetDateTime"),
        "{stderr}"
    );
}

/// `cargo check` of one of the small crates next to `ui/`, offline, in a
/// target directory of its own.
fn cargo_check(name: &str) -> std::process::Output {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("manifest-cases");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    std::process::Command::new(cargo)
        .args(["check", "--offline", "--quiet", "--manifest-path"])
        .arg(manifest_dir.join(name).join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo runs")
}

fn files_with_extension(dir: &Path, extension: &str) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("ui folder") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            found.extend(files_with_extension(&path, extension));
        } else if path.extension().is_some_and(|e| e == extension) {
            found.push(path);
        }
    }
    found.sort();
    found
}
