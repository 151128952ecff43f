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
    t.pass("ui/pass/*.rs");
}

/// A crate that depends on `uow-core` under another name
/// (`uow = { package = "uow-core" }`, in `renamed-dependency/`) compiles
/// without `crate = "..."`: the macros find the name in its manifest.
/// Checked with cargo, offline, in a target directory of its own.
#[test]
fn a_renamed_dependency_is_found_from_the_manifest() {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("renamed-dependency");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = std::process::Command::new(cargo)
        .args(["check", "--offline", "--quiet", "--manifest-path"])
        .arg(manifest_dir.join("renamed-dependency/Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "the crate with a renamed dependency does not compile:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
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
