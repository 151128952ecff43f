//! The stores the contract suite runs against. A backend that needs a server
//! says so when it is skipped, and fails instead when `CI=true`.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};

use uow_core::{InMemoryStore, Store};
use uow_sqlx::SqlxStore;

use crate::bank::TABLES;

/// A backend: how to make a fresh, empty store with the bank's tables.
pub trait Backend {
    /// The store type.
    type Store: Store + Clone;
    /// A fresh store, or `None` when the backend is unavailable here (and
    /// not required).
    fn fresh() -> impl Future<Output = Option<Self::Store>>;
}

/// The in-memory store.
pub struct InMemory;

impl Backend for InMemory {
    type Store = InMemoryStore;
    async fn fresh() -> Option<InMemoryStore> {
        Some(InMemoryStore::new())
    }
}

/// SQLite, one new database file per scenario in the temp directory.
pub struct Sqlite;

static SEQUENCE: AtomicU64 = AtomicU64::new(0);

impl Backend for Sqlite {
    type Store = SqlxStore;
    async fn fresh() -> Option<SqlxStore> {
        let path = std::env::temp_dir().join(format!(
            "uow-contract-{}-{}.db",
            std::process::id(),
            SEQUENCE.fetch_add(1, Ordering::Relaxed)
        ));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        let store = SqlxStore::connect(&format!("sqlite://{}", path.display()))
            .await
            .expect("open a SQLite file in the temp directory");
        store
            .create_tables(TABLES)
            .await
            .expect("create the bank's tables");
        Some(store)
    }
}
