//! Scaffolding for services built on uow: the library behind the
//! `cargo-uow` binary (`cargo uow new`, `cargo uow add aggregate`,
//! `cargo uow migration new`).
//!
//! The templates live in `templates/` beside this crate, derived from the
//! flagship example (`examples/allocation`): same crate roles (domain,
//! service, adapters) and module names; `tests/scaffold.rs` checks they stay
//! so.

#![deny(missing_docs)]

use std::fmt;
use std::path::{Path, PathBuf};

mod aggregate;
mod migration;

pub use aggregate::{Field, FieldType, Modifier, ParseError, add_aggregate, parse_field};
pub use migration::{MigrationOutcome, MigrationRequest, new_migration, valid_migration_name};

/// The database a new service uses by default.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Db {
    /// A SQLite file in the working directory (zero setup).
    Sqlite,
    /// PostgreSQL on 127.0.0.1:5432.
    Postgres,
    /// MySQL/MariaDB on 127.0.0.1:3306.
    Mysql,
}

/// Why scaffolding failed.
#[derive(Debug)]
pub enum ScaffoldError {
    /// The service name is not usable as a crate name.
    InvalidName(String),
    /// The destination exists already.
    Exists(PathBuf),
    /// A field specification could not be read.
    Field(ParseError),
    /// The project is not one `cargo uow new` wrote (a marker is missing).
    NotAProject(String),
    /// Reading or writing a file failed.
    Io(PathBuf, std::io::Error),
    /// The project's binary could not compute the next migration (it does
    /// not build, or the database cannot be read).
    Migration(String),
}

impl fmt::Display for ScaffoldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScaffoldError::InvalidName(name) => write!(
                f,
                "`{name}` is not a valid name: use lowercase letters, digits and `-`, starting with a letter"
            ),
            ScaffoldError::Exists(path) => write!(f, "{} exists already", path.display()),
            ScaffoldError::Field(e) => write!(f, "{e}"),
            ScaffoldError::NotAProject(what) => write!(f, "{what}"),
            ScaffoldError::Io(path, e) => write!(f, "{}: {e}", path.display()),
            ScaffoldError::Migration(why) => write!(f, "{why}"),
        }
    }
}

impl std::error::Error for ScaffoldError {}

/// The templates of `cargo uow new`: (path in the new project, text).
pub const TEMPLATES: &[(&str, &str)] = &[
    ("Cargo.toml", include_str!("../templates/Cargo.toml.tpl")),
    ("README.md", include_str!("../templates/README.md.tpl")),
    (".gitignore", include_str!("../templates/gitignore.tpl")),
    (".ci/run", include_str!("../templates/ci/run.tpl")),
    (
        "domain/Cargo.toml",
        include_str!("../templates/domain/Cargo.toml.tpl"),
    ),
    (
        "domain/src/lib.rs",
        include_str!("../templates/domain/src/lib.rs.tpl"),
    ),
    (
        "domain/src/events.rs",
        include_str!("../templates/domain/src/events.rs.tpl"),
    ),
    (
        "domain/src/model.rs",
        include_str!("../templates/domain/src/model.rs.tpl"),
    ),
    (
        "service/Cargo.toml",
        include_str!("../templates/service/Cargo.toml.tpl"),
    ),
    (
        "service/src/lib.rs",
        include_str!("../templates/service/src/lib.rs.tpl"),
    ),
    (
        "service/src/bootstrap.rs",
        include_str!("../templates/service/src/bootstrap.rs.tpl"),
    ),
    (
        "service/src/commands.rs",
        include_str!("../templates/service/src/commands.rs.tpl"),
    ),
    (
        "service/src/errors.rs",
        include_str!("../templates/service/src/errors.rs.tpl"),
    ),
    (
        "service/src/handlers.rs",
        include_str!("../templates/service/src/handlers.rs.tpl"),
    ),
    (
        "service/src/unit_of_work.rs",
        include_str!("../templates/service/src/unit_of_work.rs.tpl"),
    ),
    (
        "service/src/views.rs",
        include_str!("../templates/service/src/views.rs.tpl"),
    ),
    (
        "service/tests/services.rs",
        include_str!("../templates/service/tests/services.rs.tpl"),
    ),
    (
        "adapters/Cargo.toml",
        include_str!("../templates/adapters/Cargo.toml.tpl"),
    ),
    (
        "adapters/src/lib.rs",
        include_str!("../templates/adapters/src/lib.rs.tpl"),
    ),
    (
        "adapters/src/http.rs",
        include_str!("../templates/adapters/src/http.rs.tpl"),
    ),
    (
        "adapters/src/main.rs",
        include_str!("../templates/adapters/src/main.rs.tpl"),
    ),
    (
        "adapters/src/store.rs",
        include_str!("../templates/adapters/src/store.rs.tpl"),
    ),
    (
        "adapters/tests/http.rs",
        include_str!("../templates/adapters/tests/http.rs.tpl"),
    ),
];

/// Whether `name` can name the service's crates (`NAME`, `NAME-domain`,
/// `NAME-service`).
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-')
}

/// Writes a new service workspace named `name` into `dest`, depending on
/// the uow crates by version, or by path on the checkout `uow_path`.
/// Returns the files written, relative to `dest`.
pub fn new_project(
    dest: &Path,
    name: &str,
    db: Db,
    uow_path: Option<&Path>,
) -> Result<Vec<String>, ScaffoldError> {
    if !valid_name(name) {
        return Err(ScaffoldError::InvalidName(name.to_owned()));
    }
    if dest.exists() {
        return Err(ScaffoldError::Exists(dest.to_owned()));
    }
    let database_url = match db {
        Db::Sqlite => format!("sqlite://{name}.db"),
        Db::Postgres => format!(
            "postgres://postgres@127.0.0.1:5432/{}",
            name.replace('-', "_")
        ),
        Db::Mysql => format!("mysql://root@127.0.0.1:3306/{}", name.replace('-', "_")),
    };
    let dep = |krate: &str| match uow_path {
        Some(dir) => format!(
            "{{ path = \"{}\", version = \"{}\" }}",
            dir.join(krate).display(),
            env!("CARGO_PKG_VERSION")
        ),
        None => format!("{{ version = \"{}\" }}", env!("CARGO_PKG_VERSION")),
    };
    let vars = [
        ("{{name}}", name.to_owned()),
        ("{{crate}}", name.replace('-', "_")),
        ("{{database_url}}", database_url),
        ("{{uow_core}}", dep("uow-core")),
        ("{{uow_sqlx}}", dep("uow-sqlx")),
        ("{{uow_testing}}", dep("uow-testing")),
    ];
    let mut written = Vec::new();
    for (path, template) in TEMPLATES {
        let mut text = (*template).to_owned();
        for (key, value) in &vars {
            text = text.replace(key, value);
        }
        write(&dest.join(path), &text)?;
        written.push((*path).to_owned());
    }
    // The checkout's lock file, so the new project builds with the versions
    // the checkout was tested with (and shares its compiled dependencies).
    if let Some(dir) = uow_path {
        let lock = dir.join("Cargo.lock");
        if lock.exists() {
            let text = read(&lock)?;
            write(&dest.join("Cargo.lock"), &text)?;
            written.push("Cargo.lock".into());
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let run = dest.join(".ci/run");
        std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| ScaffoldError::Io(run, e))?;
    }
    Ok(written)
}

pub(crate) fn read(path: &Path) -> Result<String, ScaffoldError> {
    std::fs::read_to_string(path).map_err(|e| ScaffoldError::Io(path.to_owned(), e))
}

pub(crate) fn write(path: &Path, text: &str) -> Result<(), ScaffoldError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| ScaffoldError::Io(parent.to_owned(), e))?;
    }
    std::fs::write(path, text).map_err(|e| ScaffoldError::Io(path.to_owned(), e))
}

/// Runs `cargo fmt --all` in `dir`, so generated code is formatted as
/// rustfmt would; `false` if it could not run.
pub fn format(dir: &Path) -> bool {
    std::process::Command::new("cargo")
        .args(["fmt", "--all"])
        .current_dir(dir)
        .status()
        .is_ok_and(|s| s.success())
}
