use uow_core::{Aggregate, Store, unit_of_work};

#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
pub struct Line {
    pub sku: String,
    pub qty: u32,
}

#[derive(Aggregate, Clone, Debug)]
#[aggregate(table = "orders")]
pub struct Order {
    #[aggregate(id)]
    pub id: String,
    #[aggregate(version)]
    pub version: u64,
    #[aggregate(json)]
    pub lines: Vec<Line>,
}

#[unit_of_work]
pub struct Orders {
    pub orders: Order,
}

pub async fn by_lines<S: Store>(store: &S) -> Result<usize, uow_core::Error> {
    let mut uow = Orders::begin(store).await?;
    let found = uow.orders.query().order_by(|o| o.lines.desc()).all().await?;
    Ok(found.len())
}

fn main() {}
