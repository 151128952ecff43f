//! The inbox contract on every store: a message's effect is stored once,
//! however often and however concurrently it is delivered, and with the
//! handler's own writes or not at all.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use uow_core::inbox::{Handled, Inbox, InboxError, InboxStore};
use uow_core::{Error, Store};
use uow_tests::backends::Backend;
use uow_tests::bank::{Account, AccountId, Bank};

const MESSAGE: &str = "0193a0e2-7c1d-7e6f-9a51-0c2d3e4f5a6b";

async fn open<S: Store>(store: &S, id: &str) -> Result<(), Error> {
    let mut uow = Bank::begin(store).await?;
    uow.accounts.add(Account::open(id, "Ada", "north"))?;
    uow.commit().await.map(drop)
}

async fn deposit<S: Store>(store: &S, id: &str, amount: i64) -> Result<(), Error> {
    let mut uow = Bank::begin(store).await?;
    let account = uow
        .accounts
        .get(&AccountId::new(id))
        .await?
        .ok_or(Error::NotFound {
            aggregate: "Account",
            id: id.to_owned(),
        })?;
    account.deposit(amount);
    uow.commit().await.map(drop)
}

async fn balance<S: Store>(store: &S, id: &str) -> i64 {
    let mut uow = Bank::begin(store).await.expect("begin");
    uow.accounts
        .get(&AccountId::new(id))
        .await
        .expect("get")
        .map_or(0, |a| a.balance)
}

async fn accounts<S: Store>(store: &S) -> usize {
    let mut uow = Bank::begin(store).await.expect("begin");
    uow.accounts.list(1_000).await.expect("list").len()
}

/// Creates the inbox table where the store has tables.
async fn store_inbox<S: 'static>(store: &S) {
    if let Some(sql) = (store as &dyn std::any::Any).downcast_ref::<uow_sqlx::SqlxStore>() {
        sql.create_inbox().await.expect("inbox table");
    }
}

async fn fresh<B: Backend>() -> Option<B::Store> {
    let store = B::fresh().await?;
    store_inbox(&store).await;
    Some(store)
}

mod scenarios {
    use super::*;

    pub async fn inbox_a_redelivered_message_is_handled_once<B: Backend>()
    where
        B::Store: InboxStore + Clone,
    {
        let Some(store) = fresh::<B>().await else {
            return;
        };
        open(&store, "acc-1").await.expect("open");
        let inbox = Inbox::new("ledger", store.clone());
        let runs = AtomicU32::new(0);
        let mut outcomes = Vec::new();
        for _ in 0..3 {
            let handled = inbox
                .handle(MESSAGE, async |store| {
                    runs.fetch_add(1, Ordering::SeqCst);
                    deposit(&store, "acc-1", 10).await
                })
                .await
                .expect("handled");
            outcomes.push(handled);
        }
        assert_eq!(
            outcomes,
            [
                Handled::Applied,
                Handled::AlreadyHandled,
                Handled::AlreadyHandled
            ]
        );
        assert_eq!(runs.load(Ordering::SeqCst), 1, "the handler ran once");
        assert_eq!(balance(&store, "acc-1").await, 10);
        assert!(inbox.received(MESSAGE).await.expect("received"));
    }

    pub async fn inbox_a_failed_handler_records_nothing_and_the_redelivery_runs_it<B: Backend>()
    where
        B::Store: InboxStore + Clone,
    {
        let Some(store) = fresh::<B>().await else {
            return;
        };
        open(&store, "acc-1").await.expect("open");
        let inbox = Inbox::new("ledger", store.clone());
        // The handler changes the account and fails before committing.
        let failed = inbox
            .handle(MESSAGE, async |store| {
                let mut uow = Bank::begin(&store).await?;
                if let Some(account) = uow.accounts.get(&AccountId::new("acc-1")).await? {
                    account.deposit(10);
                }
                Err(Error::NotFound {
                    aggregate: "Account",
                    id: "acc-2".into(),
                })
            })
            .await;
        assert!(
            matches!(failed, Err(InboxError::Handler(Error::NotFound { .. }))),
            "{failed:?}"
        );
        assert!(!inbox.received(MESSAGE).await.expect("received"));
        assert_eq!(balance(&store, "acc-1").await, 0);

        let handled = inbox
            .handle(MESSAGE, async |store| deposit(&store, "acc-1", 10).await)
            .await
            .expect("handled");
        assert_eq!(handled, Handled::Applied);
        assert_eq!(balance(&store, "acc-1").await, 10);
    }

    pub async fn inbox_two_deliveries_at_once_store_one_effect<B: Backend>()
    where
        B::Store: InboxStore + Clone,
    {
        let Some(store) = fresh::<B>().await else {
            return;
        };
        let inbox = Inbox::new("ledger", store.clone());
        // Both deliveries pass the "already received?" check before either
        // commits; each would open an account of its own, so only the inbox
        // can keep the second effect out.
        let barrier = Arc::new(tokio::sync::Barrier::new(2));
        let deliveries = ["acc-a", "acc-b"].map(|account| {
            let (inbox, barrier) = (inbox.clone(), Arc::clone(&barrier));
            tokio::spawn(async move {
                inbox
                    .handle(MESSAGE, async |store| {
                        barrier.wait().await;
                        open(&store, account).await
                    })
                    .await
            })
        });
        let mut outcomes = Vec::new();
        for delivery in deliveries {
            outcomes.push(delivery.await.expect("task").expect("handled"));
        }
        outcomes.sort_by_key(|h| *h == Handled::AlreadyHandled);
        assert_eq!(outcomes, [Handled::Applied, Handled::AlreadyHandled]);
        assert_eq!(accounts(&store).await, 1, "one effect stored");
    }

    pub async fn inbox_a_handler_that_writes_nothing_still_records_the_message<B: Backend>()
    where
        B::Store: InboxStore + Clone,
    {
        let Some(store) = fresh::<B>().await else {
            return;
        };
        let inbox = Inbox::new("ledger", store.clone());
        let handled = inbox
            .handle(MESSAGE, async |_store| Ok::<(), Error>(()))
            .await
            .expect("handled");
        assert_eq!(handled, Handled::Applied);
        assert!(inbox.received(MESSAGE).await.expect("received"));
        let again = inbox
            .handle(MESSAGE, async |_store| -> Result<(), Error> {
                panic!("a handled message is not handled again")
            })
            .await
            .expect("handled");
        assert_eq!(again, Handled::AlreadyHandled);
    }

    pub async fn inbox_a_retried_unit_of_work_carries_the_record<B: Backend>()
    where
        B::Store: InboxStore + Clone,
    {
        let Some(store) = fresh::<B>().await else {
            return;
        };
        open(&store, "acc-1").await.expect("open");
        let inbox = Inbox::new("ledger", store.clone());
        let attempts = AtomicU32::new(0);
        let outside = store.clone();
        let handled = inbox
            .handle(MESSAGE, async |store| {
                uow_core::retry(3, || async {
                    let mut uow = Bank::begin(&store).await?;
                    let account = uow
                        .accounts
                        .get(&AccountId::new("acc-1"))
                        .await?
                        .expect("stored");
                    account.deposit(10);
                    if attempts.fetch_add(1, Ordering::SeqCst) == 0 {
                        // Another unit of work changes the account first:
                        // this commit conflicts and is retried.
                        deposit(&outside, "acc-1", 1).await?;
                    }
                    uow.commit().await.map(drop)
                })
                .await
            })
            .await
            .expect("handled");
        assert_eq!(handled, Handled::Applied);
        assert_eq!(attempts.load(Ordering::SeqCst), 2);
        assert_eq!(balance(&store, "acc-1").await, 11);
        assert!(inbox.received(MESSAGE).await.expect("received"));
    }

    pub async fn inbox_each_consumer_handles_a_message_once<B: Backend>()
    where
        B::Store: InboxStore + Clone,
    {
        let Some(store) = fresh::<B>().await else {
            return;
        };
        open(&store, "acc-1").await.expect("open");
        for consumer in ["ledger", "audit", "ledger", "audit"] {
            Inbox::new(consumer, store.clone())
                .handle(MESSAGE, async |store| deposit(&store, "acc-1", 10).await)
                .await
                .expect("handled");
        }
        assert_eq!(balance(&store, "acc-1").await, 20);
    }

    pub async fn inbox_prune_removes_only_old_records<B: Backend>()
    where
        B::Store: InboxStore + Clone,
    {
        let Some(store) = fresh::<B>().await else {
            return;
        };
        let inbox = Inbox::new("ledger", store.clone());
        for id in ["m-1", "m-2"] {
            inbox
                .handle(id, async |_store| Ok::<(), Error>(()))
                .await
                .expect("handled");
        }
        assert_eq!(
            inbox.prune(Duration::from_secs(3600)).await.expect("prune"),
            0
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(
            inbox.prune(Duration::from_millis(10)).await.expect("prune"),
            2
        );
        assert!(!inbox.received("m-1").await.expect("received"));
        // A pruned message is handled again when redelivered.
        let handled = inbox
            .handle("m-1", async |_store| Ok::<(), Error>(()))
            .await
            .expect("handled");
        assert_eq!(handled, Handled::Applied);
    }
}

mod contract {
    mod inbox {
        use super::super::scenarios;

        uow_tests::on_backends!([in_memory, sqlite, postgres, mysql] scenarios: [
            inbox_a_redelivered_message_is_handled_once,
            inbox_a_failed_handler_records_nothing_and_the_redelivery_runs_it,
            inbox_two_deliveries_at_once_store_one_effect,
            inbox_a_handler_that_writes_nothing_still_records_the_message,
            inbox_a_retried_unit_of_work_carries_the_record,
            inbox_each_consumer_handles_a_message_once,
            inbox_prune_removes_only_old_records,
        ]);
    }
}
