//! The work done with uow: a derived aggregate in a unit of work, generic
//! over the store so the same code runs on SQL and on the in-memory store.

use uow_core::{Error, Store};

use crate::model::{Account, Ledger};

fn not_found(id: i64) -> Error {
    Error::NotFound {
        aggregate: "Account",
        id: id.to_string(),
    }
}

/// (1) Loads one account in a unit of work, then drops it (rollback).
pub async fn load<S: Store>(store: &S, id: i64) -> Result<i64, Error> {
    let mut uow = Ledger::begin(store).await?;
    let account = uow.accounts.get(&id).await?.ok_or_else(|| not_found(id))?;
    Ok(account.balance)
}

/// (2) Begin, load, change, commit with the version check.
pub async fn deposit<S: Store>(store: &S, id: i64) -> Result<(), Error> {
    let mut uow = Ledger::begin(store).await?;
    let account = uow.accounts.get(&id).await?.ok_or_else(|| not_found(id))?;
    account.balance += 1;
    uow.commit().await?;
    Ok(())
}

/// (3) One unit of work adding `accounts`.
pub async fn insert<S: Store>(store: &S, accounts: Vec<Account>) -> Result<(), Error> {
    let mut uow = Ledger::begin(store).await?;
    for account in accounts {
        uow.accounts.add(account)?;
    }
    uow.commit().await?;
    Ok(())
}

/// (4) A unit of work that has loaded the first `n` accounts and changed
/// each; what remains is its commit.
pub async fn load_first<S: Store>(store: &S, n: u64) -> Result<Ledger<S>, Error> {
    let mut uow = Ledger::begin(store).await?;
    for account in uow.accounts.list(n).await? {
        account.balance += 1;
    }
    Ok(uow)
}

/// (7) One page of 50 active accounts, richest first, after `cursor`;
/// the number of accounts on it.
pub async fn page<S: Store>(store: &S, cursor: Option<&uow_core::Cursor>) -> Result<usize, Error> {
    let mut uow = Ledger::begin(store).await?;
    let page = uow
        .accounts
        .query()
        .filter(|a| a.active.eq(true))
        .order_by(|a| a.balance.desc())
        .page(50, cursor)
        .await?;
    Ok(page.items.len())
}

/// (7) The cursors of every full page after the first, each with the
/// position (balance, id) of the row it follows, for the hand-written query.
pub async fn page_cursors<S: Store>(
    store: &S,
) -> Result<Vec<(uow_core::Cursor, (i64, i64))>, Error> {
    let mut cursors = Vec::new();
    let mut cursor = None;
    loop {
        let mut uow = Ledger::begin(store).await?;
        let page = uow
            .accounts
            .query()
            .filter(|a| a.active.eq(true))
            .order_by(|a| a.balance.desc())
            .page(50, cursor.as_ref())
            .await?;
        let last = page.items.last().map(|a| (a.balance, a.id));
        match (page.next, last) {
            (Some(next), Some(position)) => {
                cursor = Some(next.clone());
                cursors.push((next, position));
            }
            _ => break,
        }
    }
    // A cursor whose next page is not full is left out (every page timed
    // holds 50 rows).
    cursors.pop();
    Ok(cursors)
}
