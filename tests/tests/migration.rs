//! The next migration (`SqlxStore::migration`) on PostgreSQL and
//! MariaDB/MySQL: written into a file of sqlx's migrations layout, it is
//! applied by sqlx's `Migrator`, after which `verify_tables` passes; after a
//! field is added, the next migration is only that column's `ALTER TABLE …
//! ADD COLUMN`; once applied, nothing is left to migrate. A finder and a
//! unique field added later bring their indexes.

use std::path::{Path, PathBuf};

use sqlx::migrate::Migrator;
use uow_core::{Aggregate, backend::AggregateMeta};
use uow_sqlx::{SqlxStore, StoreOptions};
use uow_testing::{MySql, Postgres};

/// A shelf as the first release of a service stores it.
mod v1 {
    use uow_core::Aggregate;

    #[derive(Aggregate, Clone, Debug)]
    #[aggregate(table = "mig_shelves")]
    pub struct Shelf {
        #[aggregate(id)]
        pub code: String,
        #[aggregate(version)]
        pub version: u64,
        #[aggregate(find_by)]
        pub aisle: String,
        #[aggregate(unique)]
        pub barcode: Option<String>,
    }
}

/// The same shelf after a release adds a field.
mod v2 {
    use uow_core::Aggregate;

    #[derive(Aggregate, Clone, Debug)]
    #[aggregate(table = "mig_shelves")]
    pub struct Shelf {
        #[aggregate(id)]
        pub code: String,
        #[aggregate(version)]
        pub version: u64,
        #[aggregate(find_by)]
        pub aisle: String,
        #[aggregate(unique)]
        pub barcode: Option<String>,
        pub capacity: i64,
    }
}

/// A later release: a finder field and a unique field, both optional.
mod v3 {
    use uow_core::Aggregate;

    #[derive(Aggregate, Clone, Debug)]
    #[aggregate(table = "mig_shelves")]
    pub struct Shelf {
        #[aggregate(id)]
        pub code: String,
        #[aggregate(version)]
        pub version: u64,
        #[aggregate(find_by)]
        pub aisle: String,
        #[aggregate(unique)]
        pub barcode: Option<String>,
        pub capacity: i64,
        #[aggregate(find_by)]
        pub zone: Option<String>,
        #[aggregate(unique)]
        pub tag: Option<String>,
    }
}

/// A fresh directory for one test's migration files.
fn migrations_dir(backend: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("migrations-{backend}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the migrations directory");
    dir
}

/// Writes `statements` as migration `version` in sqlx's layout
/// (`<version>_<name>.sql`).
fn write_migration(dir: &Path, version: u64, name: &str, statements: &[String]) {
    let mut sql = String::new();
    for statement in statements {
        sql.push_str(statement);
        sql.push_str(";\n");
    }
    std::fs::write(dir.join(format!("{version}_{name}.sql")), sql).expect("write the migration");
}

/// Applies the migrations of `dir` with sqlx's runtime `Migrator`.
async fn apply(store: &SqlxStore, dir: &Path) {
    let migrator = Migrator::new(dir).await.expect("read the migrations");
    if let Some(pool) = store.postgres_pool() {
        migrator.run(pool).await.expect("apply the migrations");
    } else if let Some(pool) = store.mysql_pool() {
        migrator.run(pool).await.expect("apply the migrations");
    } else {
        panic!("this test runs on PostgreSQL and MySQL/MariaDB");
    }
}

async fn migrations_apply_and_grow_by_a_column(store: SqlxStore, backend: &str) {
    let dir = migrations_dir(backend);
    let first: &[&'static AggregateMeta] = &[v1::Shelf::META, uow_tests::warehouse::Product::META];
    let init = store.migration(first).await.expect("the first migration");
    assert!(
        init.iter()
            .any(|s| s.starts_with("CREATE TABLE") && s.contains("mig_shelves")),
        "{init:#?}"
    );
    assert!(
        init.iter().any(|s| s.contains("wh_allocations")),
        "{init:#?}"
    );
    assert!(init.iter().all(|s| !s.contains("DROP")), "{init:#?}");
    write_migration(&dir, 20261201000001, "init", &init);
    apply(&store, &dir).await;
    store
        .verify_tables(first)
        .await
        .expect("the tables the migration created pass verification");
    assert_eq!(
        store.migration(first).await.expect("migration"),
        Vec::<String>::new(),
        "nothing is left to migrate"
    );

    let second: &[&'static AggregateMeta] = &[v2::Shelf::META, uow_tests::warehouse::Product::META];
    store
        .verify_tables(second)
        .await
        .expect_err("the new field has no column yet");
    let grow = store.migration(second).await.expect("the second migration");
    assert_eq!(grow.len(), 1, "{grow:#?}");
    assert!(
        grow[0].starts_with("ALTER TABLE") && grow[0].contains("ADD COLUMN"),
        "{grow:#?}"
    );
    assert!(grow[0].contains("capacity"), "{grow:#?}");
    write_migration(&dir, 20261201000002, "shelf_capacity", &grow);
    apply(&store, &dir).await;
    store
        .verify_tables(second)
        .await
        .expect("the added column passes verification");
    assert_eq!(
        store.migration(second).await.expect("migration"),
        Vec::<String>::new()
    );

    // A finder and a unique field: their columns, then their indexes.
    let third: &[&'static AggregateMeta] = &[v3::Shelf::META];
    let grow = store.migration(third).await.expect("the third migration");
    assert_eq!(grow.len(), 4, "{grow:#?}");
    assert!(
        grow[0].starts_with("ALTER TABLE") && grow[0].contains("zone"),
        "{grow:#?}"
    );
    assert!(
        grow[1].starts_with("ALTER TABLE") && grow[1].contains("tag"),
        "{grow:#?}"
    );
    assert!(
        grow[2].starts_with("CREATE UNIQUE INDEX") && grow[2].contains("tag"),
        "{grow:#?}"
    );
    assert!(
        grow[3].starts_with("CREATE INDEX") && grow[3].contains("zone"),
        "{grow:#?}"
    );
    write_migration(&dir, 20261201000003, "shelf_zone_and_tag", &grow);
    apply(&store, &dir).await;
    store
        .verify_tables(third)
        .await
        .expect("the added columns and indexes pass verification");
    assert_eq!(
        store.migration(third).await.expect("migration"),
        Vec::<String>::new()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn postgres_migrations_apply_and_grow_by_a_column() {
    let Some(store) = Postgres::empty_with(StoreOptions::new().max_connections(2)).await else {
        return;
    };
    migrations_apply_and_grow_by_a_column(store, "postgres").await;
}

#[tokio::test]
async fn mysql_migrations_apply_and_grow_by_a_column() {
    let Some(store) = MySql::empty_with(StoreOptions::new().max_connections(2)).await else {
        return;
    };
    migrations_apply_and_grow_by_a_column(store, "mysql").await;
}
