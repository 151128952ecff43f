//! A commit of many aggregates costs few statements: multi-row inserts and
//! batched, version-checked updates and deletes, counted by the store.

use uow_core::{Error, Store};
use uow_sqlx::SqlxStore;
use uow_tests::backends::Backend;
use uow_tests::bank::{Bank, LedgerEntry};

mod scenarios {
    use super::*;

    const N: i64 = 1_000;

    fn entry(id: i64) -> LedgerEntry {
        LedgerEntry {
            id,
            version: 0,
            account: format!("acc-{}", id % 7),
            amount: id,
        }
    }

    async fn count<S: Store>(store: &S) -> usize {
        let mut uow = Bank::begin(store).await.expect("begin");
        uow.entries.list(u64::MAX).await.expect("list").len()
    }

    pub async fn a_thousand_adds_a_thousand_changes_and_a_thousand_removals_take_few_statements<
        B: Backend<Store = SqlxStore>,
    >() {
        let Some(store) = B::fresh().await else {
            return;
        };

        let mut uow = Bank::begin(&store).await.expect("begin");
        for id in 0..N {
            uow.entries.add(entry(id)).expect("add");
        }
        let before = store.statements_executed();
        uow.commit().await.expect("commit the adds");
        let inserts = store.statements_executed() - before;
        assert!(inserts <= 24, "{inserts} statements for {N} inserts");
        assert_eq!(count(&store).await, N as usize);

        let mut uow = Bank::begin(&store).await.expect("begin");
        for entry in uow.entries.list(u64::MAX).await.expect("list") {
            entry.amount += 1;
        }
        let before = store.statements_executed();
        uow.commit().await.expect("commit the changes");
        let updates = store.statements_executed() - before;
        assert!(updates <= 24, "{updates} statements for {N} updates");

        let mut uow = Bank::begin(&store).await.expect("begin");
        let changed = uow.entries.list(u64::MAX).await.expect("list");
        assert!(
            changed
                .iter()
                .all(|e| e.version == 2 && e.amount == e.id + 1)
        );
        for id in 0..N {
            uow.entries.remove(&id).await.expect("remove");
        }
        let before = store.statements_executed();
        uow.commit().await.expect("commit the removals");
        let deletes = store.statements_executed() - before;
        assert!(deletes <= 24, "{deletes} statements for {N} deletes");
        assert_eq!(count(&store).await, 0);
        uow_tests::report(&format!(
            "{}: {N} inserts in {inserts} statements, {N} updates in {updates}, {N} deletes in {deletes}",
            B::NAME
        ));
    }

    pub async fn a_batched_update_names_the_aggregate_that_conflicted<
        B: Backend<Store = SqlxStore>,
    >() {
        let Some(store) = B::fresh().await else {
            return;
        };
        let mut uow = Bank::begin(&store).await.expect("begin");
        for id in 0..50 {
            uow.entries.add(entry(id)).expect("add");
        }
        uow.commit().await.expect("seed");

        let mut loser = Bank::begin(&store).await.expect("begin");
        for entry in loser.entries.list(100).await.expect("list") {
            entry.amount = -1;
        }
        let mut winner = Bank::begin(&store).await.expect("begin");
        winner
            .entries
            .get(&37)
            .await
            .expect("get")
            .expect("stored")
            .amount = 370;
        winner.commit().await.expect("commit");

        let err = loser.commit().await.expect_err("entry 37 moved on");
        match err {
            Error::Conflict {
                aggregate,
                id,
                expected,
            } => assert_eq!((aggregate, id.as_str(), expected), ("LedgerEntry", "37", 1)),
            other => panic!("expected the conflict of entry 37, got {other:?}"),
        }
        let mut uow = Bank::begin(&store).await.expect("begin");
        let entries = uow.entries.list(100).await.expect("list");
        assert!(
            entries.iter().all(|e| e.amount != -1),
            "nothing of the losing batch is stored"
        );
    }

    pub async fn a_duplicate_inside_a_batch_is_pinned_to_its_aggregate<
        B: Backend<Store = SqlxStore>,
    >() {
        let Some(store) = B::fresh().await else {
            return;
        };
        let mut uow = Bank::begin(&store).await.expect("begin");
        uow.entries.add(entry(123)).expect("add");
        uow.commit().await.expect("seed");

        let mut uow = Bank::begin(&store).await.expect("begin");
        for id in 100..200 {
            uow.entries.add(entry(id)).expect("staged");
        }
        let err = uow.commit().await.expect_err("123 is taken");
        match err {
            Error::Duplicate { id, column, .. } => {
                assert_eq!((id.as_str(), column.as_str()), ("123", "id"));
            }
            other => panic!("expected the duplicate of entry 123, got {other:?}"),
        }
        assert_eq!(count(&store).await, 1, "nothing of the batch is stored");
    }
}

uow_tests::on_backends!([sqlite, postgres, mysql] scenarios: [
    a_thousand_adds_a_thousand_changes_and_a_thousand_removals_take_few_statements,
    a_batched_update_names_the_aggregate_that_conflicted,
    a_duplicate_inside_a_batch_is_pinned_to_its_aggregate,
]);
