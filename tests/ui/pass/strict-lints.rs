//! The generated code is clean under the lints a careful library denies.
#![deny(unused_lifetimes, unreachable_pub, missing_docs)]

//! (The crate's own documentation.)

/// The domain.
pub mod domain {
    use uow_core::{Aggregate, ColumnValue, Entity, unit_of_work};

    /// A stock-keeping unit.
    #[derive(ColumnValue, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
    pub struct Sku(pub String);

    /// A batch inside a product.
    #[derive(Entity, Clone, Debug, serde::Serialize, serde::Deserialize)]
    pub struct Batch {
        /// Its reference.
        #[entity(id)]
        pub reference: String,
    }

    /// What happened to a product.
    #[derive(Clone, Debug)]
    pub enum ProductEvent {
        /// It was listed.
        Listed,
    }

    /// A product.
    #[derive(Aggregate, Debug)]
    #[aggregate(table = "products")]
    pub struct Product {
        /// Its SKU.
        #[aggregate(id)]
        pub sku: Sku,
        /// Its version.
        #[aggregate(version)]
        pub version: u64,
        /// Its category.
        #[aggregate(find_by)]
        pub category: String,
        /// Its barcode.
        #[aggregate(unique)]
        pub ean: Option<String>,
        /// Its batches.
        #[aggregate(json)]
        pub batches: Vec<Batch>,
        /// Its events.
        #[aggregate(events)]
        pub events: Vec<ProductEvent>,
    }

    /// What happened in the catalogue.
    #[derive(Debug)]
    pub enum CatalogueEvent {
        /// A product event.
        Product(ProductEvent),
    }

    impl From<ProductEvent> for CatalogueEvent {
        fn from(event: ProductEvent) -> Self {
            CatalogueEvent::Product(event)
        }
    }

    /// The catalogue.
    #[unit_of_work(events = CatalogueEvent)]
    pub struct Catalogue {
        /// The products.
        pub products: Product,
    }

    mod internal {
        use uow_core::{Aggregate, unit_of_work};

        #[derive(Aggregate, Debug)]
        #[aggregate(table = "audits")]
        pub(crate) struct Audit {
            #[aggregate(id)]
            pub(crate) id: u64,
            #[aggregate(version)]
            pub(crate) version: u64,
        }

        #[unit_of_work]
        pub(crate) struct Auditing {
            pub(crate) audits: Audit,
        }
    }

    /// Uses the crate-private unit of work.
    pub fn auditing_is_used() -> usize {
        std::mem::size_of::<internal::Auditing<uow_core::InMemoryStore>>()
    }
}

fn main() {
    let _ = domain::auditing_is_used();
}
