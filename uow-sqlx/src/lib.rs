//! # uow-sqlx
//!
//! The database stores of uow: [`SqlxStore`] runs units of work on SQLite,
//! PostgreSQL and MySQL/MariaDB through sqlx. SQL is generated once per
//! aggregate and dialect, every value is a bound parameter, every
//! `UPDATE`/`DELETE` is version-checked, and a commit writes many aggregates
//! with few statements (multi-row `INSERT`s, batched updates and deletes). The
//! domain never sees this crate: service code is generic over
//! [`uow_core::Store`], and the application's entry point picks this store.
//!
//! # Schema
//!
//! uow does not own your migrations. Per unit of work it can
//!
//! - print the DDL of its tables ([`SqlxStore::ddl_for`]) in the store's
//!   dialect, to paste into a migration file (`sqlx migrate add init`, then
//!   `sqlx migrate run`, or any other migration tool);
//! - create the missing tables ([`SqlxStore::create_tables_for`]), for
//!   development and tests;
//! - verify at start-up ([`SqlxStore::verify_tables_for`]) that the tables the
//!   migrations made behave as the in-memory store does: every column of a
//!   type that holds every value of its field, keys compared byte by byte,
//!   the primary key, UNIQUE constraints and finder indexes in place, no
//!   other NOT NULL column without a default; failing with
//!   [`uow_core::Error::Schema`] naming the table, the column and the drift.
//!
//! # Outbox
//!
//! A unit of work declared `#[unit_of_work(events = E, outbox)]` stores its
//! events in the `uow_outbox` table in its commit transaction. A
//! [`uow_core::outbox::Relay`] over the store delivers them to your publisher, at least
//! once and in order per aggregate; [`run_relay`] runs one until stopped.
//! Relays may run in several processes at once (`FOR UPDATE SKIP LOCKED` on
//! PostgreSQL and MySQL/MariaDB, a lease on SQLite).
//!
//! # Statements of your own
//!
//! A unit of work's `transaction()` is a [`SqlxTransaction`] on this store:
//! it runs SQL of your own with sqlx's connection of the database at hand,
//! now in the unit's transaction (`with_postgres`, `with_mysql`,
//! `with_sqlite`) or in the commit's transaction after the aggregates are
//! written (`at_commit_postgres`, ...), so that it commits or rolls back
//! with the unit of work. Such statements leave the in-memory store behind:
//! keep the service generic over [`uow_core::Store`] with a port trait of
//! your own that has an in-memory implementation.
//!
//! # Features
//!
//! One cargo feature per database, each enabling sqlx's driver of the same
//! name; at least one is required.
//!
//! | feature | database | default |
//! |---|---|---|
//! | `sqlite` | SQLite 3.37+ (bundled) | yes: an embedded store needs no server |
//! | `postgres` | PostgreSQL 12+ | no |
//! | `mysql` | MySQL 8, MariaDB 10.6+ | no |
//!
//! A PostgreSQL-only service depends on
//! `uow-sqlx = { version = "…", default-features = false, features = ["postgres"] }`
//! and compiles neither SQLite nor the MySQL driver. A pool made outside uow
//! is brought in with [`SqlxStore::from_pool`].
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// The modules' layers, from the bottom up (a module uses only modules of
// the layers below it; no import cycle): `existing` (what a database says a
// table is), `dialect` (the SQL text trait), `options`; `driver` (the
// databases themselves, `driver/<database>/`) and `sql`; `commit_marker`,
// `statements`, `schema`, `outbox_table`; `backend` (the one dispatch
// point); `flush`; `store`; `outbox` (claims over the store).
mod backend;
mod commit_marker;
mod dialect;
mod driver;
mod existing;
mod flush;
mod options;
mod outbox;
mod outbox_table;
mod query;
mod schema;
mod sql;
mod statements;
mod store;

pub use backend::outbox_ddl;
pub use commit_marker::COMMITS_TABLE;
pub use dialect::Dialect;
pub use options::{Isolation, StoreOptions};
pub use outbox::{SqlxClaim, run_relay};
pub use outbox_table::OUTBOX_TABLE;
pub use store::{OwnSql, SqlxPool, SqlxStore, SqlxTransaction};
