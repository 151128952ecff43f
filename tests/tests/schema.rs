//! Schema verification names what does not fit: a missing table, a missing
//! column, a column of an incompatible type, a nullability mismatch.

use sqlx::Executor;
use uow_core::{Aggregate, Error};
use uow_sqlx::{Dialect, SqlxStore};
use uow_tests::backends::Backend;
use uow_tests::bank::{Bank, LedgerEntry, TABLES};

mod scenarios {
    use super::*;

    /// Runs raw DDL on the store's own database.
    async fn execute(store: &SqlxStore, sql: String) {
        let sql = sqlx::AssertSqlSafe(sql);
        let outcome = match store.dialect() {
            Dialect::Sqlite => store
                .sqlite_pool()
                .expect("sqlite")
                .execute(sql)
                .await
                .map(drop),
            Dialect::Postgres => store
                .postgres_pool()
                .expect("pg")
                .execute(sql)
                .await
                .map(drop),
            _ => store
                .mysql_pool()
                .expect("mysql")
                .execute(sql)
                .await
                .map(drop),
        };
        outcome.expect("DDL");
    }

    /// `ledger_entries` with `amount` declared as `amount_type`, or
    /// without it.
    fn ledger_table(dialect: Dialect, amount_type: Option<&str>) -> String {
        let (int, text) = match dialect {
            Dialect::Sqlite => ("INTEGER", "TEXT"),
            Dialect::Postgres => ("BIGINT", "TEXT"),
            _ => ("BIGINT", "VARCHAR(255)"),
        };
        let amount = amount_type.map_or(String::new(), |ty| format!(", amount {ty} NOT NULL"));
        format!(
            "CREATE TABLE ledger_entries (id {int} NOT NULL PRIMARY KEY, version {int} NOT NULL, account {text} NOT NULL{amount})"
        )
    }

    fn schema_error(err: Error) -> (String, Option<String>, String) {
        match err {
            Error::Schema {
                table,
                column,
                problem,
            } => (table, column, problem),
            other => panic!("expected a schema error, got {other:?}"),
        }
    }

    pub async fn tables_made_by_create_tables_verify<B: Backend<Store = SqlxStore>>() {
        let Some(store) = B::fresh().await else {
            return;
        };
        store.verify_tables(TABLES).await.expect("the tables fit");
        store
            .verify_tables_for::<Bank<SqlxStore>>()
            .await
            .expect("the same, by unit of work");
        store
            .create_tables(TABLES)
            .await
            .expect("creating twice is a no-op");
    }

    pub async fn a_missing_table_is_named<B: Backend<Store = SqlxStore>>() {
        let Some(store) = B::empty().await else {
            return;
        };
        let err = store
            .verify_tables(&[LedgerEntry::META])
            .await
            .expect_err("no tables");
        let message = err.to_string();
        let (table, column, problem) = schema_error(err);
        assert_eq!((table.as_str(), column), ("ledger_entries", None));
        assert!(problem.contains("does not exist"), "{problem}");
        assert!(message.starts_with("table `ledger_entries`: "), "{message}");
    }

    pub async fn a_missing_column_is_named<B: Backend<Store = SqlxStore>>() {
        let Some(store) = B::empty().await else {
            return;
        };
        execute(&store, ledger_table(store.dialect(), None)).await;
        let err = store
            .verify_tables(&[LedgerEntry::META])
            .await
            .expect_err("amount is missing");
        let message = err.to_string();
        let (table, column, problem) = schema_error(err);
        assert_eq!(
            (table.as_str(), column.as_deref()),
            ("ledger_entries", Some("amount"))
        );
        assert!(problem.contains("missing"), "{problem}");
        assert!(
            message.contains("table `ledger_entries`, column `amount`"),
            "{message}"
        );
    }

    pub async fn a_column_of_an_incompatible_type_is_named<B: Backend<Store = SqlxStore>>() {
        let Some(store) = B::empty().await else {
            return;
        };
        let text = if store.dialect() == Dialect::MySql {
            "VARCHAR(20)"
        } else {
            "TEXT"
        };
        execute(&store, ledger_table(store.dialect(), Some(text))).await;
        let err = store
            .verify_tables(&[LedgerEntry::META])
            .await
            .expect_err("amount is text");
        let (table, column, problem) = schema_error(err);
        assert_eq!(
            (table.as_str(), column.as_deref()),
            ("ledger_entries", Some("amount"))
        );
        assert!(
            problem.contains("cannot hold LedgerEntry.amount"),
            "{problem}"
        );
    }
}

uow_tests::on_backends!([sqlite, postgres, mysql] scenarios: [
    tables_made_by_create_tables_verify,
    a_missing_table_is_named,
    a_missing_column_is_named,
    a_column_of_an_incompatible_type_is_named,
]);
