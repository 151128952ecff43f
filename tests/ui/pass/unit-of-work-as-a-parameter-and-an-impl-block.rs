//! A unit of work taken as `&mut Catalogue<S>` and extended with an `impl`
//! block, as the documentation says: `S` is the store, `S: Store`.

use uow_core::{Aggregate, Error, InMemoryStore, Store, unit_of_work};

#[derive(Aggregate, Debug)]
#[aggregate(table = "products")]
pub struct Product {
    #[aggregate(id)]
    pub sku: String,
    #[aggregate(version)]
    pub version: u64,
    pub stock: u32,
}

#[unit_of_work]
pub struct Catalogue {
    pub products: Product,
}

impl<S: Store> Catalogue<S> {
    /// Adds a product with no stock.
    pub fn list_new(&mut self, sku: &str) -> Result<(), Error> {
        self.products.add(Product {
            sku: sku.to_owned(),
            version: 0,
            stock: 0,
        })
    }
}

pub async fn restock<S: Store>(uow: &mut Catalogue<S>, sku: &str, qty: u32) -> Result<(), Error> {
    if let Some(product) = uow.products.get(&sku.to_owned()).await? {
        product.stock += qty;
    }
    Ok(())
}

fn main() {
    let store = InMemoryStore::new();
    let run = async {
        let mut uow = Catalogue::begin(&store).await?;
        uow.list_new("LAMP")?;
        uow.commit().await?;
        let mut uow = Catalogue::begin(&store).await?;
        restock(&mut uow, "LAMP", 5).await?;
        uow.commit().await?;
        let mut uow = Catalogue::begin(&store).await?;
        let stock = uow.products.get(&"LAMP".to_owned()).await?.map(|p| p.stock);
        assert_eq!(stock, Some(5));
        Ok::<(), Error>(())
    };
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(run)
        .unwrap();
}
