//! `cargo uow migration new NAME`: the next migration of a project written
//! by `cargo uow new`, as its own binary computes it (`NAME migration-sql`,
//! which compares the aggregates' metadata with the database), written into
//! `migrations/<UTC timestamp>_<name>.sql`, sqlx's layout.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{ScaffoldError, read};

/// What `cargo uow migration new` did.
#[derive(Debug, PartialEq, Eq)]
pub enum MigrationOutcome {
    /// The database lacks nothing: no file was written.
    NothingToDo,
    /// The migration's SQL, printed instead of written (`--dry-run`).
    DryRun(String),
    /// The file written, and its SQL.
    Written(PathBuf, String),
}

/// The options of [`new_migration`].
#[derive(Debug)]
pub struct MigrationRequest<'a> {
    /// The project's directory.
    pub project: &'a Path,
    /// The migration's name (lowercase letters, digits and `_`).
    pub name: &'a str,
    /// The database to compare the aggregates with.
    pub database_url: &'a str,
    /// Print instead of writing.
    pub dry_run: bool,
}

/// Whether `name` can name a migration file (`<timestamp>_<name>.sql`).
pub fn valid_migration_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Runs the project's binary (`cargo run -q -p <project>-adapters -- migration-sql
/// --database-url URL`) and writes what it prints into
/// `migrations/<UTC timestamp>_<name>.sql` (never over an existing file),
/// prints it with `dry_run`, or writes nothing when the database lacks
/// nothing.
pub fn new_migration(request: &MigrationRequest<'_>) -> Result<MigrationOutcome, ScaffoldError> {
    if !valid_migration_name(request.name) {
        return Err(ScaffoldError::InvalidName(request.name.to_owned()));
    }
    // The binary is in the adapters crate, `<project>-adapters`.
    let adapters = format!("{}-adapters", project_name(request.project)?);
    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["run", "-q", "-p", &adapters, "--", "migration-sql"])
        .args(["--database-url", request.database_url])
        .current_dir(request.project)
        .output()
        .map_err(|e| ScaffoldError::Io(request.project.to_owned(), e))?;
    if !output.status.success() {
        return Err(ScaffoldError::Migration(format!(
            "`{adapters} migration-sql` failed:\n{}",
            String::from_utf8_lossy(&output.stderr).trim_end()
        )));
    }
    let sql = String::from_utf8_lossy(&output.stdout).into_owned();
    if sql.trim().is_empty() {
        return Ok(MigrationOutcome::NothingToDo);
    }
    if request.dry_run {
        return Ok(MigrationOutcome::DryRun(sql));
    }
    let dir = request.project.join("migrations");
    std::fs::create_dir_all(&dir).map_err(|e| ScaffoldError::Io(dir.clone(), e))?;
    let stamp = chrono::Utc::now().format("%Y%m%d%H%M%S");
    let path = dir.join(format!("{stamp}_{}.sql", request.name));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| ScaffoldError::Io(path.clone(), e))?;
    file.write_all(sql.as_bytes())
        .map_err(|e| ScaffoldError::Io(path.clone(), e))?;
    Ok(MigrationOutcome::Written(path, sql))
}

/// The project's name, as `cargo uow new` wrote it into the workspace's
/// dependencies (`NAME-domain = { path = "domain" }`).
fn project_name(dir: &Path) -> Result<String, ScaffoldError> {
    let root = read(&dir.join("Cargo.toml"))?;
    root.lines()
        .find_map(|l| l.strip_suffix("-domain = { path = \"domain\" }"))
        .map(str::to_owned)
        .ok_or_else(|| {
            ScaffoldError::NotAProject(format!(
                "{}: not a project written by `cargo uow new` (no domain crate in the workspace dependencies)",
                dir.display()
            ))
        })
}
