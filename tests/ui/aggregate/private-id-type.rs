mod domain {
    use uow_core::{Aggregate, ColumnValue};

    #[derive(ColumnValue, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
    struct Sku(String);

    #[derive(Aggregate, Debug)]
    #[aggregate(table = "products")]
    pub struct Product {
        #[aggregate(id)]
        sku: Sku,
        #[aggregate(version)]
        pub version: u64,
    }
}

fn main() {
    let _ = std::mem::size_of::<domain::Product>();
}
