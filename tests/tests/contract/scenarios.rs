//! The scenarios of the store contract, each generic over the backend.

use std::sync::atomic::{AtomicU32, Ordering};

use uow_core::{Error, Store, retry};
use uow_tests::backends::Backend;
use uow_tests::bank::{
    Account, AccountEvent, AccountId, AccountRepository, Bank, BankEvent, LedgerEntry,
    LedgerEntryRepository, Specimen,
};
use uow_tests::counting::CountingStore;

/// A fresh store of backend `B`, or return from the scenario when the backend
/// is not available here (the backend has said why).
macro_rules! fresh {
    ($b:ty) => {
        match <$b as Backend>::fresh().await {
            Some(store) => store,
            None => return,
        }
    };
}

async fn seed<S: Store>(store: &S, accounts: Vec<Account>) {
    let mut uow = Bank::begin(store).await.expect("begin");
    for account in accounts {
        uow.accounts.add(account).expect("add");
    }
    uow.commit().await.expect("seed commit");
}

async fn load<S: Store>(store: &S, id: &str) -> Option<Account> {
    let mut uow = Bank::begin(store).await.expect("begin");
    uow.accounts
        .get(&AccountId::new(id))
        .await
        .expect("get")
        .cloned()
}

fn with_email(mut account: Account, email: &str) -> Account {
    account.email = Some(email.to_owned());
    account
}

pub async fn round_trip_of_every_field_type<B: Backend>() {
    let store = fresh!(B);
    let full = Specimen::sample(1);
    let mut sparse = Specimen::sample(2);
    sparse.maybe_text = None;
    sparse.maybe_number = None;
    sparse.maybe_amount = Some("0.5".parse().expect("decimal"));
    sparse.text = String::new();
    sparse.blob = Vec::new();
    sparse.flag = false;

    let mut uow = Bank::begin(&store).await.expect("begin");
    uow.specimens.add(full.clone()).expect("add");
    uow.specimens.add(sparse.clone()).expect("add");
    uow.commit().await.expect("commit");

    let mut uow = Bank::begin(&store).await.expect("begin");
    for expected in [full, sparse] {
        let loaded = uow
            .specimens
            .get(&expected.id)
            .await
            .expect("get")
            .expect("stored")
            .clone();
        assert_eq!(
            loaded,
            Specimen {
                version: 1,
                ..expected
            }
        );
    }
}

pub async fn values_a_column_cannot_hold_are_rejected_on_commit<B: Backend>() {
    let store = fresh!(B);
    let mut too_big = Specimen::sample(3);
    too_big.quad_word = u64::MAX;
    let mut uow = Bank::begin(&store).await.expect("begin");
    uow.accounts
        .add(Account::open("acc-1", "Ada", "north"))
        .expect("add");
    uow.specimens.add(too_big).expect("add is staged");
    let err = uow
        .commit()
        .await
        .expect_err("u64::MAX does not fit a BIGINT");
    match &err {
        Error::Encode { field, .. } => assert_eq!(*field, "quad_word"),
        other => panic!("expected an encode error, got {other:?}"),
    }
    assert!(err.to_string().contains("does not fit"), "{err}");
    assert_eq!(
        load(&store, "acc-1").await,
        None,
        "nothing of the unit is stored"
    );
}

pub async fn dropping_a_unit_of_work_stores_nothing<B: Backend>() {
    let store = fresh!(B);
    seed(&store, vec![Account::open("acc-1", "Ada", "north")]).await;

    let mut uow = Bank::begin(&store).await.expect("begin");
    uow.accounts
        .get(&AccountId::new("acc-1"))
        .await
        .expect("get")
        .expect("stored")
        .deposit(100);
    uow.accounts
        .add(Account::open("acc-2", "Bob", "south"))
        .expect("add");
    drop(uow);

    let stored = load(&store, "acc-1").await.expect("still stored");
    assert_eq!((stored.balance, stored.version), (0, 1));
    assert_eq!(load(&store, "acc-2").await, None);
}

pub async fn an_early_error_return_stores_nothing<B: Backend>() {
    async fn withdraw<S: Store>(store: &S, amount: i64) -> Result<(), String> {
        let mut uow = Bank::begin(store).await.map_err(|e| e.to_string())?;
        let account = uow
            .accounts
            .get(&AccountId::new("acc-1"))
            .await
            .map_err(|e| e.to_string())?
            .ok_or("no account")?;
        account.balance -= amount;
        if account.balance < 0 {
            return Err("insufficient funds".to_owned());
        }
        uow.commit().await.map_err(|e| e.to_string())?;
        Ok(())
    }

    let store = fresh!(B);
    seed(&store, vec![Account::open("acc-1", "Ada", "north")]).await;
    assert_eq!(
        withdraw(&store, 10).await,
        Err("insufficient funds".to_owned())
    );
    assert_eq!(load(&store, "acc-1").await.expect("stored").balance, 0);
}

pub async fn a_panic_inside_a_unit_of_work_stores_nothing<B: Backend>()
where
    B::Store: 'static,
{
    let store = fresh!(B);
    seed(&store, vec![Account::open("acc-1", "Ada", "north")]).await;

    let handle = store.clone();
    let outcome = tokio::spawn(async move {
        let mut uow = Bank::begin(&handle).await.expect("begin");
        uow.accounts
            .get(&AccountId::new("acc-1"))
            .await
            .expect("get")
            .expect("stored")
            .deposit(100);
        uow.accounts
            .add(Account::open("acc-2", "Bob", "south"))
            .expect("add");
        panic!("a bug in the middle of a unit of work");
    })
    .await;
    assert!(outcome.expect_err("the task panicked").is_panic());

    assert_eq!(load(&store, "acc-1").await.expect("stored").balance, 0);
    assert_eq!(load(&store, "acc-2").await, None);

    // The store is still usable: the next unit of work commits.
    let mut uow = Bank::begin(&store).await.expect("begin");
    uow.accounts
        .get(&AccountId::new("acc-1"))
        .await
        .expect("get")
        .expect("stored")
        .deposit(1);
    uow.commit().await.expect("commit after a panic");
    assert_eq!(load(&store, "acc-1").await.expect("stored").balance, 1);
}

pub async fn uncommitted_work_is_invisible_to_other_units_of_work<B: Backend>() {
    let store = fresh!(B);
    seed(&store, vec![Account::open("acc-1", "Ada", "north")]).await;

    let mut writer = Bank::begin(&store).await.expect("begin");
    writer
        .accounts
        .get(&AccountId::new("acc-1"))
        .await
        .expect("get")
        .expect("stored")
        .deposit(50);
    writer
        .accounts
        .add(Account::open("acc-2", "Bob", "north"))
        .expect("add");

    let mut reader = Bank::begin(&store).await.expect("begin");
    let seen = reader
        .accounts
        .get(&AccountId::new("acc-1"))
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(seen.balance, 0);
    assert!(
        reader
            .accounts
            .get(&AccountId::new("acc-2"))
            .await
            .expect("get")
            .is_none()
    );
    let north = reader.accounts.find_by_branch("north").await.expect("find");
    assert_eq!(north.len(), 1, "staged adds are not found");
    drop(reader);

    writer.commit().await.expect("commit");
    assert_eq!(load(&store, "acc-1").await.expect("stored").balance, 50);
    assert!(load(&store, "acc-2").await.is_some());
}

pub async fn mutating_a_loaded_copy_changes_nothing_stored<B: Backend>() {
    let store = fresh!(B);
    seed(&store, vec![Account::open("acc-1", "Ada", "north")]).await;

    let mut first = Bank::begin(&store).await.expect("begin");
    let mut second = Bank::begin(&store).await.expect("begin");
    let mine = first
        .accounts
        .get(&AccountId::new("acc-1"))
        .await
        .expect("get")
        .expect("stored");
    mine.owner = "Mallory".to_owned();
    mine.balance = 1_000_000;
    let theirs = second
        .accounts
        .get(&AccountId::new("acc-1"))
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(theirs.owner, "Ada", "each unit of work has its own copy");
    drop(first);
    drop(second);
    let stored = load(&store, "acc-1").await.expect("stored");
    assert_eq!((stored.owner.as_str(), stored.balance), ("Ada", 0));
}

pub async fn loading_an_id_twice_returns_the_same_object_and_reads_once<B: Backend>() {
    let store = CountingStore::new(fresh!(B));
    seed(&store, vec![Account::open("acc-1", "Ada", "north")]).await;
    let before = store.fetches();

    let mut uow = Bank::begin(&store).await.expect("begin");
    let id = AccountId::new("acc-1");
    uow.accounts
        .get(&id)
        .await
        .expect("get")
        .expect("stored")
        .deposit(5);
    let again = uow.accounts.get(&id).await.expect("get").expect("stored");
    assert_eq!(
        again.balance, 5,
        "the second get returns the changed object"
    );
    assert_eq!(store.fetches() - before, 1, "the store was read once");

    let found = uow.accounts.find_by_branch("north").await.expect("find");
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].balance, 5,
        "a finder returns the object already held, not the stored row"
    );
}

pub async fn only_changed_aggregates_get_a_new_version<B: Backend>() {
    let store = fresh!(B);
    seed(
        &store,
        vec![
            Account::open("acc-1", "Ada", "north"),
            Account::open("acc-2", "Bob", "north"),
        ],
    )
    .await;

    let mut uow = Bank::begin(&store).await.expect("begin");
    uow.accounts
        .get(&AccountId::new("acc-1"))
        .await
        .expect("get")
        .expect("stored")
        .deposit(10);
    let untouched = uow
        .accounts
        .get(&AccountId::new("acc-2"))
        .await
        .expect("get")
        .expect("stored");
    // Setting a field to the value it has is not a change.
    untouched.owner = "Bob".to_owned();
    uow.commit().await.expect("commit");

    assert_eq!(load(&store, "acc-1").await.expect("stored").version, 2);
    assert_eq!(load(&store, "acc-2").await.expect("stored").version, 1);

    // A unit of work that changes nothing writes nothing.
    let mut uow = Bank::begin(&store).await.expect("begin");
    uow.accounts.list(10).await.expect("list");
    uow.commit().await.expect("empty commit");
    assert_eq!(load(&store, "acc-1").await.expect("stored").version, 2);
}

pub async fn of_two_concurrent_updates_exactly_one_commits<B: Backend>() {
    let store = fresh!(B);
    seed(&store, vec![Account::open("acc-1", "Ada", "north")]).await;
    let id = AccountId::new("acc-1");

    // Both units of work hold version 1 of the same account.
    let mut first = Bank::begin(&store).await.expect("begin");
    let mut second = Bank::begin(&store).await.expect("begin");
    let a = first.accounts.get(&id).await.expect("get").expect("stored");
    let b = second
        .accounts
        .get(&id)
        .await
        .expect("get")
        .expect("stored");
    assert_eq!((a.version, b.version), (1, 1));
    a.deposit(10);
    b.deposit(20);

    first.commit().await.expect("the first commit wins");
    let err = second
        .commit()
        .await
        .expect_err("the second commit is rejected");
    match &err {
        Error::Conflict {
            aggregate,
            id,
            expected,
        } => {
            assert_eq!(*aggregate, "Account");
            assert_eq!(id, "acc-1");
            assert_eq!(*expected, 1);
        }
        other => panic!("expected a version conflict, got {other:?}"),
    }
    assert!(err.is_conflict());
    let stored = load(&store, "acc-1").await.expect("stored");
    assert_eq!(
        (stored.balance, stored.version),
        (10, 2),
        "exactly one change"
    );
}

pub async fn deleting_with_a_stale_version_is_a_conflict<B: Backend>() {
    let store = fresh!(B);
    seed(&store, vec![Account::open("acc-1", "Ada", "north")]).await;
    let id = AccountId::new("acc-1");

    let mut stale = Bank::begin(&store).await.expect("begin");
    stale.accounts.get(&id).await.expect("get").expect("stored");

    let mut other = Bank::begin(&store).await.expect("begin");
    other
        .accounts
        .get(&id)
        .await
        .expect("get")
        .expect("stored")
        .deposit(1);
    other.commit().await.expect("commit");

    stale.accounts.remove(&id).await.expect("remove is staged");
    let err = stale.commit().await.expect_err("stale delete");
    assert!(
        matches!(err, Error::Conflict { expected: 1, .. }),
        "expected a conflict at version 1, got {err:?}"
    );
    assert_eq!(
        load(&store, "acc-1").await.expect("still stored").version,
        2
    );
}

pub async fn adding_an_existing_id_is_a_duplicate<B: Backend>() {
    let store = fresh!(B);
    seed(&store, vec![Account::open("acc-1", "Ada", "north")]).await;

    let mut uow = Bank::begin(&store).await.expect("begin");
    uow.accounts
        .add(Account::open("acc-0", "Zed", "west"))
        .expect("add");
    uow.accounts
        .add(Account::open("acc-1", "Eve", "east"))
        .expect("staged");
    let err = uow.commit().await.expect_err("duplicate id");
    match &err {
        Error::Duplicate {
            aggregate,
            id,
            column,
        } => assert_eq!(
            (*aggregate, id.as_str(), column.as_str()),
            ("Account", "acc-1", "id")
        ),
        other => panic!("expected a duplicate, got {other:?}"),
    }
    assert_eq!(load(&store, "acc-1").await.expect("stored").owner, "Ada");
    assert_eq!(load(&store, "acc-0").await, None, "the whole commit failed");

    // Adding the same id twice in one unit of work fails at once.
    let mut uow = Bank::begin(&store).await.expect("begin");
    uow.accounts
        .add(Account::open("acc-9", "Ann", "west"))
        .expect("add");
    let err = uow
        .accounts
        .add(Account::open("acc-9", "Ann", "west"))
        .expect_err("same id twice");
    assert!(matches!(err, Error::Duplicate { .. }), "{err:?}");
}

pub async fn adding_a_taken_unique_value_is_a_duplicate<B: Backend>() {
    let store = fresh!(B);
    seed(
        &store,
        vec![
            with_email(Account::open("acc-1", "Ada", "north"), "ada@example.com"),
            Account::open("acc-2", "Bob", "north"),
        ],
    )
    .await;

    let mut uow = Bank::begin(&store).await.expect("begin");
    uow.accounts
        .add(with_email(
            Account::open("acc-3", "Impostor", "north"),
            "ada@example.com",
        ))
        .expect("staged");
    let err = uow.commit().await.expect_err("taken email");
    match &err {
        Error::Duplicate { id, column, .. } => {
            assert_eq!((id.as_str(), column.as_str()), ("acc-3", "email"));
        }
        other => panic!("expected a duplicate, got {other:?}"),
    }

    // Several NULLs are not duplicates of each other, as in SQL.
    let mut uow = Bank::begin(&store).await.expect("begin");
    uow.accounts
        .add(Account::open("acc-4", "Cy", "south"))
        .expect("add");
    uow.commit().await.expect("a second NULL email is fine");

    // Taking the value by update is a duplicate too.
    let mut uow = Bank::begin(&store).await.expect("begin");
    uow.accounts
        .get(&AccountId::new("acc-2"))
        .await
        .expect("get")
        .expect("stored")
        .email = Some("ada@example.com".to_owned());
    let err = uow.commit().await.expect_err("taken by update");
    assert!(
        matches!(&err, Error::Duplicate { column, .. } if column == "email"),
        "{err:?}"
    );
}

pub async fn a_commit_is_atomic_across_repositories<B: Backend>() {
    let store = fresh!(B);
    let mut uow = Bank::begin(&store).await.expect("begin");
    uow.accounts
        .add(Account::open("acc-1", "Ada", "north"))
        .expect("add");
    uow.entries
        .add(LedgerEntry {
            id: 1,
            version: 0,
            account: "acc-1".to_owned(),
            amount: 0,
        })
        .expect("add");
    uow.commit().await.expect("seed");

    let mut loser = Bank::begin(&store).await.expect("begin");
    let entry = loser.entries.get(&1).await.expect("get").expect("stored");
    entry.amount = 5;
    loser
        .accounts
        .get(&AccountId::new("acc-1"))
        .await
        .expect("get")
        .expect("stored")
        .deposit(5);

    let mut winner = Bank::begin(&store).await.expect("begin");
    winner
        .entries
        .get(&1)
        .await
        .expect("get")
        .expect("stored")
        .amount = 7;
    winner.commit().await.expect("commit");

    // Accounts are written before ledger entries: the account's update runs
    // and succeeds inside the transaction, then the entry's conflicts.
    let err = loser.commit().await.expect_err("conflict on the entry");
    assert!(
        matches!(
            &err,
            Error::Conflict {
                aggregate: "LedgerEntry",
                ..
            }
        ),
        "{err:?}"
    );
    let account = load(&store, "acc-1").await.expect("stored");
    assert_eq!(
        (account.balance, account.version),
        (0, 1),
        "the account's update was rolled back with the rest"
    );
    let mut uow = Bank::begin(&store).await.expect("begin");
    assert_eq!(
        uow.entries
            .get(&1)
            .await
            .expect("get")
            .expect("stored")
            .amount,
        7
    );
}

pub async fn finders_and_unique_getters_match_exact_values<B: Backend>() {
    let store = fresh!(B);
    let mut nick = Account::open("acc-3", "Cy", "north");
    nick.nickname = Some("cy".to_owned());
    seed(
        &store,
        vec![
            with_email(Account::open("acc-2", "Bob", "north"), "bob@example.com"),
            Account::open("acc-1", "Ada", "south"),
            nick,
            Account::open("acc-4", "Di", "North"),
        ],
    )
    .await;

    let mut uow = Bank::begin(&store).await.expect("begin");
    let north: Vec<String> = uow
        .accounts
        .find_by_branch("north")
        .await
        .expect("find")
        .into_iter()
        .map(|a| a.id.0.clone())
        .collect();
    assert_eq!(north, ["acc-2", "acc-3"], "exact, case-sensitive, by id");
    assert!(
        uow.accounts
            .find_by_branch("east")
            .await
            .expect("find")
            .is_empty()
    );

    let bob = uow
        .accounts
        .get_by_email("bob@example.com")
        .await
        .expect("get_by")
        .expect("found");
    assert_eq!(bob.owner, "Bob");
    assert!(
        uow.accounts
            .get_by_email("nobody@example.com")
            .await
            .expect("get_by")
            .is_none()
    );

    // Looking up NULL finds the rows where the column is NULL.
    let nickname = <Account as uow_core::Aggregate>::META
        .column_index("nickname")
        .expect("column");
    let without: Vec<String> =
        uow_core::__private::find_by_column(&mut uow.accounts, nickname, &None::<String>)
            .await
            .expect("find")
            .into_iter()
            .map(|a| a.id.0.clone())
            .collect();
    assert_eq!(without, ["acc-1", "acc-2", "acc-4"]);

    let mut uow = Bank::begin(&store).await.expect("begin");
    let entries = uow.entries.find_by_account("acc-1").await.expect("find");
    assert!(entries.is_empty());
}

pub async fn list_returns_the_lowest_ids_up_to_the_limit<B: Backend>() {
    let store = fresh!(B);
    let mut uow = Bank::begin(&store).await.expect("begin");
    for id in [30, 4, 100, 2, 17] {
        uow.entries
            .add(LedgerEntry {
                id,
                version: 0,
                account: "acc".to_owned(),
                amount: id * 10,
            })
            .expect("add");
    }
    uow.commit().await.expect("commit");

    let mut uow = Bank::begin(&store).await.expect("begin");
    let ids: Vec<i64> = uow
        .entries
        .list(3)
        .await
        .expect("list")
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(ids, [2, 4, 17], "numeric order, not text order");
    assert_eq!(uow.entries.list(100).await.expect("list").len(), 5);
    assert!(uow.entries.list(0).await.expect("list").is_empty());
}

pub async fn removing_deletes_and_removing_a_missing_id_is_not_found<B: Backend>() {
    let store = fresh!(B);
    seed(
        &store,
        vec![
            Account::open("acc-1", "Ada", "north"),
            Account::open("acc-2", "Bob", "north"),
        ],
    )
    .await;

    let mut uow = Bank::begin(&store).await.expect("begin");
    uow.accounts
        .remove(&AccountId::new("acc-1"))
        .await
        .expect("remove");
    assert!(
        uow.accounts
            .get(&AccountId::new("acc-1"))
            .await
            .expect("get")
            .is_none(),
        "a removed aggregate is gone for the unit of work at once"
    );
    let err = uow
        .accounts
        .remove(&AccountId::new("acc-404"))
        .await
        .expect_err("missing");
    match &err {
        Error::NotFound { aggregate, id } => {
            assert_eq!((*aggregate, id.as_str()), ("Account", "acc-404"));
        }
        other => panic!("expected not found, got {other:?}"),
    }
    uow.commit().await.expect("commit");

    assert_eq!(load(&store, "acc-1").await, None);
    assert!(load(&store, "acc-2").await.is_some());
}

pub async fn strings_shaped_like_sql_injection_round_trip_unchanged<B: Backend>() {
    let store = fresh!(B);
    let nasty = [
        "Robert'); DROP TABLE accounts;--",
        "x' OR '1'='1",
        "\"; DELETE FROM \"accounts\" WHERE \"1\"=\"1",
        "back`tick` and \\ backslash",
        "percent % and underscore _ wildcards",
    ];
    let mut accounts = Vec::new();
    for (i, text) in nasty.iter().enumerate() {
        let mut account = Account::open(&format!("acc-{i}'--"), text, text);
        account.nickname = Some(format!("{text}{text}"));
        accounts.push(account);
    }
    seed(&store, accounts).await;

    let mut uow = Bank::begin(&store).await.expect("begin");
    for (i, text) in nasty.iter().enumerate() {
        let found = uow.accounts.find_by_branch(*text).await.expect("find");
        assert_eq!(found.len(), 1, "only the exact value matches: {text}");
        assert_eq!(found[0].owner, *text);
        assert_eq!(found[0].id.0, format!("acc-{i}'--"));
        assert_eq!(
            found[0].nickname.as_deref(),
            Some(&*format!("{text}{text}"))
        );
    }
    assert!(
        uow.accounts
            .find_by_branch("%")
            .await
            .expect("find")
            .is_empty(),
        "no pattern matching"
    );
    assert_eq!(
        uow.accounts.list(100).await.expect("list").len(),
        nasty.len()
    );
}

pub async fn changing_a_loaded_id_is_rejected<B: Backend>() {
    let store = fresh!(B);
    seed(&store, vec![Account::open("acc-1", "Ada", "north")]).await;
    let mut uow = Bank::begin(&store).await.expect("begin");
    uow.accounts
        .get(&AccountId::new("acc-1"))
        .await
        .expect("get")
        .expect("stored")
        .id = AccountId::new("acc-2");
    let err = uow.commit().await.expect_err("ids are identity");
    assert!(matches!(err, Error::IdChanged { .. }), "{err:?}");
    assert!(load(&store, "acc-1").await.is_some());
    assert_eq!(load(&store, "acc-2").await, None);
}

pub async fn commit_returns_the_events_recorded_in_order<B: Backend>() {
    let store = fresh!(B);
    seed(&store, vec![Account::open("acc-1", "Ada", "north")]).await;
    let id = AccountId::new("acc-1");

    let mut uow = Bank::begin(&store).await.expect("begin");
    let account = uow.accounts.get(&id).await.expect("get").expect("stored");
    account.deposit(5);
    account.deposit(7);
    let mut opened = Account::open("acc-2", "Bob", "north");
    opened.deposit(1);
    uow.accounts.add(opened).expect("add");
    let events = uow.commit().await.expect("commit");
    let deposited = |account: &str, amount| {
        BankEvent::Account(AccountEvent::Deposited {
            account: AccountId::new(account),
            amount,
        })
    };
    assert_eq!(
        events,
        [
            deposited("acc-1", 5),
            deposited("acc-1", 7),
            deposited("acc-2", 1)
        ]
    );

    // A unit of work that does not commit hands out no events.
    let mut first = Bank::begin(&store).await.expect("begin");
    let mut second = Bank::begin(&store).await.expect("begin");
    first
        .accounts
        .get(&id)
        .await
        .expect("get")
        .expect("stored")
        .deposit(1);
    second
        .accounts
        .get(&id)
        .await
        .expect("get")
        .expect("stored")
        .deposit(2);
    assert_eq!(first.commit().await.expect("commit").len(), 1);
    assert!(
        second.commit().await.is_err(),
        "the conflict yields no events"
    );
}

pub async fn retry_reruns_a_unit_of_work_that_lost_a_race<B: Backend>() {
    let store = fresh!(B);
    seed(&store, vec![Account::open("acc-1", "Ada", "north")]).await;
    let attempts = AtomicU32::new(0);

    let deposit = || async {
        let attempt = attempts.fetch_add(1, Ordering::SeqCst) + 1;
        let mut uow = Bank::begin(&store).await?;
        uow.accounts
            .get(&AccountId::new("acc-1"))
            .await?
            .ok_or(Error::NotFound {
                aggregate: "Account",
                id: "acc-1".into(),
            })?
            .deposit(10);
        if attempt == 1 {
            // Someone else commits between our load and our commit.
            let mut rival = Bank::begin(&store).await?;
            if let Some(account) = rival.accounts.get(&AccountId::new("acc-1")).await? {
                account.deposit(1);
            }
            rival.commit().await?;
        }
        uow.commit().await.map(|_| ())
    };
    retry(3, deposit).await.expect("the second attempt commits");
    assert_eq!(attempts.load(Ordering::SeqCst), 2);
    let stored = load(&store, "acc-1").await.expect("stored");
    assert_eq!((stored.balance, stored.version), (11, 3));

    // Errors that a retry cannot fix are returned at once.
    let tries = AtomicU32::new(0);
    let missing = || async {
        tries.fetch_add(1, Ordering::SeqCst);
        let mut uow = Bank::begin(&store).await?;
        uow.accounts.remove(&AccountId::new("nope")).await
    };
    assert!(matches!(
        retry(5, missing).await,
        Err(Error::NotFound { .. })
    ));
    assert_eq!(tries.load(Ordering::SeqCst), 1);
}
