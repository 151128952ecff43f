//! Schema verification names what does not fit: a missing table, a missing
//! column, a column of an incompatible type, a nullability mismatch — and
//! every drift after which the table would behave otherwise than the
//! in-memory store: no primary key, no UNIQUE, no finder index, `CHAR(n)`,
//! a narrower integer, an extra NOT NULL column, a collation that does not
//! compare keys byte by byte. A duplicate on a unique constraint a migration
//! named names the field, as on the in-memory store.

use uow_core::{Aggregate, Error, InMemoryStore, Store};
use uow_sqlx::{Dialect, SqlxStore};
use uow_tests::backends::Backend;
use uow_tests::bank::{Account, AccountId, AuditedBank, Bank, LedgerEntry, TABLES};
use uow_tests::raw_sql;

mod scenarios {
    use super::*;

    /// Runs raw DDL on the store's own database.
    async fn execute(store: &SqlxStore, sql: String) {
        raw_sql::execute(store, &sql).await.expect("DDL");
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
        store
            .create_tables_for::<AuditedBank<SqlxStore>>()
            .await
            .expect("the outbox table");
        store
            .verify_tables_for::<AuditedBank<SqlxStore>>()
            .await
            .expect("the outbox table fits too");
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

/// The `accounts` table of the bank's `Account`, as a migration might
/// write it, with one drift at a time.
mod drift {
    use super::*;

    /// What is different from a table that fits.
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub enum Drift {
        None,
        NoPrimaryKey,
        NoUnique,
        CompositeUnique,
        NoFinderIndex,
        CharColumn,
        NarrowerInteger,
        ExtraNotNull,
        IdCollation,
    }

    /// The statements that make `accounts` with `drift`. The unique
    /// constraint is named as a migration names it (`uq_accounts_email`),
    /// and a NOT NULL column uow does not know has a default.
    pub fn accounts(dialect: Dialect, drift: Drift) -> Vec<String> {
        let (key, text, big, narrow, char_type, id_collation) = match dialect {
            Dialect::Sqlite => (
                "TEXT",
                "TEXT",
                "INTEGER",
                "SMALLINT",
                "CHAR(20)",
                "TEXT COLLATE NOCASE",
            ),
            Dialect::Postgres => (
                "TEXT",
                "TEXT",
                "BIGINT",
                "INTEGER",
                "CHAR(20)",
                "TEXT COLLATE uow_case_insensitive",
            ),
            _ => (
                "VARCHAR(255) COLLATE utf8mb4_nopad_bin",
                "LONGTEXT COLLATE utf8mb4_nopad_bin",
                "BIGINT",
                "INT",
                "CHAR(20)",
                "VARCHAR(255) COLLATE utf8mb4_general_ci",
            ),
        };
        let id_type = if drift == Drift::IdCollation {
            id_collation
        } else {
            key
        };
        let primary = if drift == Drift::NoPrimaryKey {
            ""
        } else {
            " PRIMARY KEY"
        };
        let owner = if drift == Drift::CharColumn {
            char_type
        } else {
            text
        };
        let balance = if drift == Drift::NarrowerInteger {
            narrow
        } else {
            big
        };
        let unique = match drift {
            Drift::NoUnique => String::new(),
            Drift::CompositeUnique => {
                ",\n    CONSTRAINT uq_accounts_email UNIQUE (email, branch)".to_owned()
            }
            _ => ",\n    CONSTRAINT uq_accounts_email UNIQUE (email)".to_owned(),
        };
        let extra = if drift == Drift::ExtraNotNull {
            format!(",\n    region {key} NOT NULL")
        } else {
            String::new()
        };
        let mut statements = Vec::new();
        if drift == Drift::IdCollation && dialect == Dialect::Postgres {
            statements.push(
                "CREATE COLLATION uow_case_insensitive (provider = icu, locale = 'und-u-ks-level2', deterministic = false)"
                    .to_owned(),
            );
        }
        statements.push(format!(
            "CREATE TABLE accounts (\n    id {id_type} NOT NULL{primary},\n    version {big} NOT NULL,\n    \
             owner {owner} NOT NULL,\n    balance {balance} NOT NULL,\n    branch {key} NOT NULL,\n    \
             email {key},\n    nickname {key},\n    created_by {key} NOT NULL DEFAULT 'uow'{extra}{unique}\n)"
        ));
        if drift != Drift::NoFinderIndex {
            statements.push("CREATE INDEX accounts_by_branch ON accounts (branch)".to_owned());
        }
        // An index that serves the finder through its first column.
        statements
            .push("CREATE INDEX accounts_by_nickname ON accounts (nickname, branch)".to_owned());
        statements
    }
}

mod drifts {
    use super::drift::{Drift, accounts};
    use super::*;

    async fn made(drift: Drift, store: &SqlxStore) {
        // The migration also holds what `ddl` gives beside the aggregates:
        // the commit-marker table, where markers are on.
        let markers = store.ddl(&[]);
        let markers = markers
            .split(";\n")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        for statement in accounts(store.dialect(), drift).into_iter().chain(markers) {
            let done = raw_sql::execute(store, &statement).await;
            done.unwrap_or_else(|e| panic!("{statement}: {e}"));
        }
    }

    /// Verification of `accounts` made with `drift`: the error's column and
    /// problem, or `None` when it verifies.
    async fn verdict<B: Backend<Store = SqlxStore>>(drift: Drift) -> Option<(String, String)> {
        let store = B::empty().await?;
        made(drift, &store).await;
        match store.verify_tables(&[Account::META]).await {
            Ok(()) => None,
            Err(Error::Schema {
                table,
                column,
                problem,
            }) => {
                assert_eq!(table, "accounts", "{drift:?}: the table is named");
                let column = column.unwrap_or_else(|| panic!("{drift:?}: no column named"));
                uow_tests::report(&format!("  {} {drift:?}: {column}: {problem}", B::NAME));
                Some((column, problem))
            }
            Err(other) => panic!("{drift:?}: expected a schema error, got {other}"),
        }
    }

    /// Asserts that `drift` is reported on `column` with a problem saying
    /// `says`.
    async fn reported<B: Backend<Store = SqlxStore>>(drift: Drift, column: &str, says: &str) {
        if B::empty().await.is_none() {
            return;
        }
        let (found, problem) = verdict::<B>(drift)
            .await
            .unwrap_or_else(|| panic!("{}: {drift:?} verified", B::NAME));
        assert_eq!(found, column, "{}: {drift:?}: {problem}", B::NAME);
        assert!(
            problem.contains(says),
            "{}: {drift:?}: `{says}` in: {problem}",
            B::NAME
        );
    }

    /// The migration's table, with a named unique constraint, an index
    /// serving a finder through its first column and a defaulted extra
    /// column, verifies.
    pub async fn a_fitting_migration_with_named_constraints_verifies<
        B: Backend<Store = SqlxStore>,
    >() {
        if B::empty().await.is_none() {
            return;
        }
        assert_eq!(verdict::<B>(Drift::None).await, None);
    }

    pub async fn a_missing_primary_key_is_named<B: Backend<Store = SqlxStore>>() {
        reported::<B>(Drift::NoPrimaryKey, "id", "no primary key").await;
    }

    pub async fn a_missing_unique_constraint_is_named<B: Backend<Store = SqlxStore>>() {
        reported::<B>(Drift::NoUnique, "email", "no UNIQUE").await;
        reported::<B>(Drift::CompositeUnique, "email", "no UNIQUE").await;
    }

    pub async fn a_missing_finder_index_is_named<B: Backend<Store = SqlxStore>>() {
        reported::<B>(Drift::NoFinderIndex, "branch", "no index").await;
    }

    pub async fn an_extra_not_null_column_is_named<B: Backend<Store = SqlxStore>>() {
        reported::<B>(Drift::ExtraNotNull, "region", "NOT NULL without a default").await;
    }

    pub async fn a_key_collation_that_is_not_byte_by_byte_is_named<
        B: Backend<Store = SqlxStore>,
    >() {
        reported::<B>(Drift::IdCollation, "id", "byte by byte").await;
    }

    /// `CHAR(n)` for a `String` and a narrower integer: PostgreSQL pads
    /// CHAR(n) and MySQL/MariaDB trims it, and their SMALLINT/INT cannot
    /// hold an `i64`; both are reported there.
    pub async fn a_char_column_and_a_narrower_integer_are_named<B: Backend<Store = SqlxStore>>() {
        reported::<B>(Drift::CharColumn, "owner", "CHAR(n)").await;
        reported::<B>(
            Drift::NarrowerInteger,
            "balance",
            "cannot hold Account.balance",
        )
        .await;
    }

    /// On SQLite a column's declared type is an affinity: `CHAR(20)` holds
    /// any text unpadded and `SMALLINT` any 64-bit integer. Verification
    /// accepts them, truthfully: the values round-trip exactly.
    pub async fn sqlite_char_and_smallint_hold_every_value<B: Backend<Store = SqlxStore>>() {
        for drift in [Drift::CharColumn, Drift::NarrowerInteger] {
            let Some(store) = B::empty().await else {
                return;
            };
            made(drift, &store).await;
            store
                .verify_tables(&[Account::META])
                .await
                .unwrap_or_else(|e| panic!("{drift:?}: {e}"));
            let mut account = Account::open("a", &"long owner name ".repeat(10), "b");
            account.balance = i64::MIN;
            let mut uow = Bank::begin(&store).await.expect("begin");
            uow.accounts.add(account.clone()).expect("add");
            uow.commit().await.expect("commit");
            let mut uow = Bank::begin(&store).await.expect("begin");
            let loaded = uow
                .accounts
                .get(&AccountId::new("a"))
                .await
                .expect("get")
                .expect("stored")
                .clone();
            assert_eq!(
                (loaded.owner, loaded.balance),
                (account.owner, account.balance)
            );
        }
    }

    /// A duplicate on the migration-named `uq_accounts_email` is reported
    /// on the `email` column, with the id of the aggregate added — as the
    /// in-memory store reports it.
    pub async fn a_duplicate_on_a_migration_named_constraint_names_the_field<
        B: Backend<Store = SqlxStore>,
    >() {
        let Some(store) = B::empty().await else {
            return;
        };
        made(Drift::None, &store).await;
        store.verify_tables(&[Account::META]).await.expect("fits");
        // The migration made the accounts table only; commits write markers.
        store.create_tables(&[]).await.expect("the marker table");
        let fake = InMemoryStore::new();
        let on_sql = duplicate_email(&store).await;
        let on_fake = duplicate_email(&fake).await;
        assert_eq!(on_sql, on_fake, "{}", B::NAME);
        assert_eq!(on_sql.0, "email");
    }

    /// Adds two accounts with one email in two units of work; the second
    /// commit's duplicate column and id.
    async fn duplicate_email<S: Store>(store: &S) -> (String, String) {
        let with_email = |id: &str| {
            let mut a = Account::open(id, "owner", "branch");
            a.email = Some("same@example.com".to_owned());
            a
        };
        let mut uow = Bank::begin(store).await.expect("begin");
        uow.accounts.add(with_email("first")).expect("add");
        uow.commit().await.expect("the first is stored");
        let mut uow = Bank::begin(store).await.expect("begin");
        uow.accounts.add(with_email("second")).expect("add");
        match uow.commit().await {
            Err(Error::Duplicate { column, id, .. }) => (column, id),
            other => panic!("expected a duplicate, got {other:?}"),
        }
    }
}

mod collation_and_width {
    use super::drifts;
    uow_tests::on_backends!([postgres, mysql] drifts: [
        a_char_column_and_a_narrower_integer_are_named,
        a_duplicate_on_a_migration_named_constraint_names_the_field,
    ]);
    uow_tests::on_backends!([sqlite] drifts: [
        sqlite_char_and_smallint_hold_every_value,
        a_duplicate_on_a_migration_named_constraint_names_the_field,
    ]);
}

mod verification {
    use super::drifts;
    uow_tests::on_backends!([sqlite, postgres, mysql] drifts: [
        a_fitting_migration_with_named_constraints_verifies,
        a_missing_primary_key_is_named,
        a_missing_unique_constraint_is_named,
        a_missing_finder_index_is_named,
        an_extra_not_null_column_is_named,
        a_key_collation_that_is_not_byte_by_byte_is_named,
    ]);
}

uow_tests::on_backends!([sqlite, postgres, mysql] scenarios: [
    tables_made_by_create_tables_verify,
    a_missing_table_is_named,
    a_missing_column_is_named,
    a_column_of_an_incompatible_type_is_named,
]);
