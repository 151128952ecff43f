mod domain {
    use uow_core::Aggregate;

    #[derive(Aggregate, Debug)]
    #[aggregate(table = "products")]
    pub struct Product {
        #[aggregate(id)]
        pub sku: String,
        #[aggregate(version)]
        pub version: u64,
        #[aggregate(find_by)]
        pub category: String,
    }
}

use domain::Product;
use uow_core::{InMemoryStore, unit_of_work};

#[unit_of_work]
pub struct Catalogue {
    pub products: Product,
}

async fn lamps(store: &InMemoryStore) -> Result<usize, uow_core::Error> {
    let mut uow = Catalogue::begin(store).await?;
    Ok(uow.products.find_by_category("lamps").await?.len())
}

fn main() {
    let _ = lamps;
}
