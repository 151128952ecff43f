//! `cargo uow`: scaffolding for services built on uow. See `cargo uow --help`.

use std::path::PathBuf;
use std::process::ExitCode;

use cargo_uow::{
    Db, MigrationOutcome, MigrationRequest, add_aggregate, format, new_migration, new_project,
    parse_field,
};
use clap::{Parser, Subcommand};

/// Cargo runs `cargo-uow uow ARGS` for `cargo uow ARGS`.
#[derive(Parser)]
#[command(name = "cargo", bin_name = "cargo", version)]
enum Cargo {
    /// Scaffolding for services built on uow.
    Uow(Uow),
}

#[derive(clap::Args)]
#[command(version, about = "Scaffolding for services built on uow")]
struct Uow {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write a new service workspace NAME/: a domain crate, a service layer,
    /// HTTP adapters and an entry point, with tests on the in-memory store
    /// and SQLite (PostgreSQL/MySQL when their test URLs are set).
    New {
        /// The service's name: lowercase letters, digits and `-`. Its crates
        /// are NAME-domain, NAME-service and NAME-adapters (its binary: NAME).
        name: String,
        /// The database the service uses by default.
        #[arg(long, value_enum, default_value = "sqlite")]
        db: Db,
        /// Depend on the uow crates of this local checkout instead of
        /// their published versions.
        #[arg(long, value_name = "DIR")]
        uow_path: Option<PathBuf>,
    },
    /// Add to a project written by `cargo uow new`.
    #[command(subcommand)]
    Add(Add),
    /// Migrations of a project written by `cargo uow new`.
    #[command(subcommand)]
    Migration(Migration),
}

#[derive(Subcommand)]
enum Migration {
    /// Write migrations/<UTC timestamp>_NAME.sql (sqlx's layout) with what
    /// the database lacks for the project's aggregates: missing tables,
    /// columns and indexes (never a drop or a change of type). The service
    /// applies it at start-up. Nothing missing: says so, writes nothing.
    #[command(after_help = "The statements come from the project's own binary \
(`cargo run -p NAME-adapters -- migration-sql --database-url URL`), so the project must build.
A NOT NULL column added to a table that has rows needs a value for them: edit the
file (a DEFAULT, or an UPDATE) before it is applied.")]
    New {
        /// The migration's name: lowercase letters, digits and `_`.
        name: String,
        /// Print the migration instead of writing it.
        #[arg(long)]
        dry_run: bool,
        /// The database to compare with (default: $DATABASE_URL).
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
        /// The project's directory.
        #[arg(long, default_value = ".")]
        path: PathBuf,
    },
}

#[derive(Subcommand)]
enum Add {
    /// Add an aggregate to the domain crate, register it in the unit of
    /// work, and write its round-trip and conflict tests.
    #[command(after_help = "FIELD is name:type[:modifier]...
  types:     string, int (i32), bigint (i64), bool, decimal, uuid, date, datetime,
             json, enum(A|B|C)
  modifiers: optional (an Option), find_by (a finder and an index),
             unique (a finder and a UNIQUE constraint)
example: cargo uow add aggregate Invoice total:decimal customer:uuid \\
           issued:datetime status:enum(Draft|Sent|Paid):find_by")]
    Aggregate {
        /// The aggregate's name, CamelCase (its table is its snake_case name + `s`).
        name: String,
        /// Its fields besides `id` (a String) and `version`.
        #[arg(value_name = "FIELD", required = true)]
        fields: Vec<String>,
        /// The project's directory.
        #[arg(long, default_value = ".")]
        path: PathBuf,
    },
}

fn main() -> ExitCode {
    let Cargo::Uow(uow) = Cargo::parse();
    match run(uow.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> Result<(), Box<dyn std::error::Error>> {
    match command {
        Command::New { name, db, uow_path } => {
            let uow_path = match uow_path {
                Some(dir) => Some(
                    std::fs::canonicalize(&dir)
                        .map_err(|e| format!("--uow-path {}: {e}", dir.display()))?,
                ),
                None => None,
            };
            let dest = PathBuf::from(&name);
            let written = new_project(&dest, &name, db, uow_path.as_deref())?;
            for file in &written {
                println!("  created {name}/{file}");
            }
            if !format(&dest) {
                eprintln!("note: `cargo fmt` could not run; the files are not formatted");
            }
            println!(
                "\nNext:\n  cd {name}\n  cargo test --workspace\n  cargo run -p {name}-adapters"
            );
        }
        Command::Add(Add::Aggregate { name, fields, path }) => {
            let fields = fields
                .iter()
                .map(|f| parse_field(f))
                .collect::<Result<Vec<_>, _>>()?;
            let written = add_aggregate(&path, &name, &fields)?;
            for file in &written {
                println!("  wrote {file}");
            }
            if !format(&path) {
                eprintln!("note: `cargo fmt` could not run; the files are not formatted");
            }
        }
        Command::Migration(Migration::New {
            name,
            dry_run,
            database_url,
            path,
        }) => {
            let database_url = match database_url {
                Some(url) => url,
                None => std::env::var("DATABASE_URL")
                    .map_err(|_| "no database: pass --database-url URL or set DATABASE_URL")?,
            };
            let outcome = new_migration(&MigrationRequest {
                project: &path,
                name: &name,
                database_url: &database_url,
                dry_run,
            })?;
            match outcome {
                MigrationOutcome::NothingToDo => {
                    println!(
                        "nothing to migrate: the database has every table, column and index; no file written"
                    );
                }
                MigrationOutcome::DryRun(sql) => print!("{sql}"),
                MigrationOutcome::Written(file, _) => println!("  wrote {}", file.display()),
            }
        }
    }
    Ok(())
}
