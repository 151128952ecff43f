//! Written as a user of a renamed dependency writes it: `uow::...`, no
//! `crate = "..."` anywhere, and no `uow_core` in scope.

use uow::{Aggregate, ColumnValue, Entity, Error, Store, unit_of_work};

#[derive(ColumnValue, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Sku(String);

#[derive(Entity, Clone, Debug)]
pub struct Batch {
    #[entity(id)]
    pub reference: String,
}

#[derive(Aggregate, Debug)]
#[aggregate(table = "products")]
pub struct Product {
    #[aggregate(id)]
    pub sku: Sku,
    #[aggregate(version)]
    pub version: u64,
    #[aggregate(find_by)]
    pub category: String,
}

#[unit_of_work]
pub struct Catalogue {
    pub products: Product,
}

pub async fn lamps<S: Store>(store: &S) -> Result<usize, Error> {
    let mut uow = Catalogue::begin(store).await?;
    let lamps = uow.products.find_by_category("lamps").await?.len();
    uow.commit().await?;
    Ok(lamps)
}

fn main() {
    let _ = lamps::<uow::InMemoryStore>;
    let _ = Batch { reference: "b".into() };
}
