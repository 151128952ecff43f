use uow_core::{Aggregate, Store, unit_of_work};

#[derive(Aggregate, Clone, Debug)]
#[aggregate(table = "payments")]
pub struct Payment {
    #[aggregate(id)]
    pub id: String,
    #[aggregate(version)]
    pub version: u64,
    pub amount_cents: i64,
}

#[unit_of_work]
pub struct Payments {
    pub payments: Payment,
}

pub async fn large<S: Store>(store: &S) -> Result<usize, uow_core::Error> {
    let mut uow = Payments::begin(store).await?;
    let found = uow.payments.query().filter(|p| p.amount_cents.gt("1000")).all().await?;
    Ok(found.len())
}

fn main() {}
