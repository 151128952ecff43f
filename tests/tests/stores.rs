//! Stores as users hold them — shared behind an `Arc`, as a web service's
//! state holds them — and the unit of work's own id.

use std::sync::Arc;

use uow_core::{CommitOutcome, Store};
use uow_tests::backends::Backend;
use uow_tests::bank::{Account, AccountId, AccountRepository, Bank};

mod scenarios {
    use super::*;

    /// A unit of work begun on an `Arc` of the store commits, and a second
    /// unit begun on a clone of the `Arc` sees what it stored.
    pub async fn a_unit_of_work_runs_on_a_store_in_an_arc<B: Backend>() {
        let Some(store) = B::fresh().await else {
            return;
        };
        let shared: Arc<B::Store> = Arc::new(store);
        let mut uow = Bank::begin(&shared).await.expect("begin on an Arc");
        uow.accounts
            .add(Account::open("acc-1", "Ada", "north"))
            .expect("add");
        uow.commit().await.expect("commit");

        let handler_state = Arc::clone(&shared);
        let mut uow = Bank::begin(&handler_state).await.expect("begin");
        let found = uow.accounts.find_by_branch("north").await.expect("find");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].owner, "Ada");
    }

    /// `uow.unit_id()` is the id of the unit's transaction (the one its
    /// repositories see) and differs from unit to unit.
    pub async fn the_unit_of_work_tells_its_id<B: Backend>() {
        let Some(store) = B::fresh().await else {
            return;
        };
        let mut uow = Bank::begin(&store).await.expect("begin");
        let unit = uow.unit_id().clone();
        assert!(!unit.as_str().is_empty());
        assert_eq!(&unit, uow.accounts.unit_id());
        assert_eq!(&unit, uow.entries.unit_id());
        uow.accounts
            .add(Account::open("acc-1", "Ada", "north"))
            .expect("add");
        uow.commit().await.expect("commit");

        let uow = Bank::begin(&store).await.expect("begin");
        assert_ne!(uow.unit_id(), &unit);
    }

    /// Asked after `commit()` returned, the store's answer about a unit of
    /// work is what `commit()` said: committed, not committed after a
    /// conflict, not committed when the unit was dropped — on SQLite without
    /// commit markers too (from the outcomes it keeps in memory).
    pub async fn a_commit_outcome_agrees_with_what_commit_returned<B: Backend>() {
        let Some(store) = B::fresh().await else {
            return;
        };
        let mut uow = Bank::begin(&store).await.expect("begin");
        let stored = uow.unit_id().clone();
        uow.accounts
            .add(Account::open("acc-1", "Ada", "north"))
            .expect("add");
        uow.commit().await.expect("commit");
        assert_eq!(
            store.commit_outcome(&stored).await.expect("ask"),
            CommitOutcome::Committed
        );

        let mut first = Bank::begin(&store).await.expect("begin");
        let mut second = Bank::begin(&store).await.expect("begin");
        let lost = second.unit_id().clone();
        let id = AccountId::new("acc-1");
        first
            .accounts
            .get(&id)
            .await
            .expect("get")
            .expect("stored")
            .balance = 1;
        second
            .accounts
            .get(&id)
            .await
            .expect("get")
            .expect("stored")
            .balance = 2;
        first.commit().await.expect("the first commits");
        let conflict = second.commit().await.expect_err("the second conflicts");
        assert!(conflict.is_retryable(), "{conflict}");
        assert_eq!(
            store.commit_outcome(&lost).await.expect("ask"),
            CommitOutcome::NotCommitted
        );

        let mut dropped = Bank::begin(&store).await.expect("begin");
        let never = dropped.unit_id().clone();
        dropped
            .accounts
            .add(Account::open("acc-2", "Bo", "north"))
            .expect("add");
        drop(dropped);
        assert_eq!(
            store.commit_outcome(&never).await.expect("ask"),
            CommitOutcome::NotCommitted
        );
    }
}

uow_tests::on_backends!([in_memory, sqlite, postgres, mysql] scenarios: [
    a_unit_of_work_runs_on_a_store_in_an_arc,
    the_unit_of_work_tells_its_id,
    a_commit_outcome_agrees_with_what_commit_returned,
]);
