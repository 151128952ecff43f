//! Snapshots of the generated code for representative inputs, so that every
//! change to it shows up in review (`src/tests/snapshots/`).

use proc_macro2::TokenStream;
use quote::quote;
use syn::{DeriveInput, parse_quote};

use crate::expand;

fn pretty(tokens: TokenStream) -> String {
    let file: syn::File = syn::parse2(tokens).expect("generated code parses as a file");
    prettyplease::unparse(&file)
}

fn aggregate(input: DeriveInput) -> String {
    pretty(expand::derive_aggregate(&input).expect("expands"))
}

#[test]
fn product_with_finders_json_and_events() {
    let input: DeriveInput = parse_quote! {
        #[derive(Aggregate)]
        #[aggregate(table = "products", eq_by_id)]
        pub struct Product {
            #[aggregate(id)]
            pub sku: Sku,
            #[aggregate(version)]
            pub version: u64,
            pub description: String,
            #[aggregate(find_by)]
            pub category: String,
            #[aggregate(unique, column = "ean_code")]
            pub ean: Option<String>,
            #[aggregate(json)]
            pub batches: Vec<Batch>,
            #[aggregate(events)]
            pub events: Vec<ProductEvent>,
        }
    };
    insta::assert_snapshot!(aggregate(input));
}

#[test]
fn plain_aggregate_with_default_table_and_i32_version() {
    let input: DeriveInput = parse_quote! {
        #[derive(Aggregate)]
        #[aggregate(crate = "::my_app::uow")]
        pub(crate) struct OrderLine {
            #[aggregate(id)]
            id: OrderLineId,
            #[aggregate(version)]
            revision: i32,
            quantity: u32,
            r#type: String,
        }
    };
    insta::assert_snapshot!(aggregate(input));
}

#[test]
fn entity_with_eq_by_id() {
    let input: DeriveInput = parse_quote! {
        #[derive(Entity)]
        #[entity(eq_by_id)]
        pub struct Batch {
            #[entity(id)]
            pub reference: BatchRef,
            pub quantity: u32,
        }
    };
    insta::assert_snapshot!(pretty(expand::derive_entity(&input).expect("expands")));
}

#[test]
fn column_value_newtypes() {
    let tuple: DeriveInput = parse_quote! {
        #[derive(ColumnValue)]
        pub struct Sku(String);
    };
    let named: DeriveInput = parse_quote! {
        #[derive(ColumnValue)]
        pub struct OrderId {
            value: u64,
        }
    };
    let mut tokens = expand::derive_column_value(&tuple).expect("expands");
    tokens.extend(expand::derive_column_value(&named).expect("expands"));
    insta::assert_snapshot!(pretty(tokens));
}

#[test]
fn column_value_enum() {
    let input: DeriveInput = parse_quote! {
        #[derive(ColumnValue)]
        pub enum PaymentStatus {
            Pending,
            #[column_value(rename = "settled_in_full")]
            Settled,
        }
    };
    insta::assert_snapshot!(pretty(
        expand::derive_column_value(&input).expect("expands")
    ));
}

#[test]
fn unit_of_work_with_events() {
    let args = quote!(events = AllocationEvent);
    let item = quote! {
        /// Allocating order lines to batches.
        pub struct Allocation {
            /// The products and their batches.
            pub products: Product,
            pub orders: Order,
        }
    };
    insta::assert_snapshot!(pretty(expand::unit_of_work(&args, &item).expect("expands")));
}

#[test]
fn unit_of_work_without_events() {
    let item = quote! {
        pub struct Catalogue {
            pub products: Product,
        }
    };
    let tokens = expand::unit_of_work(&TokenStream::new(), &item).expect("expands");
    insta::assert_snapshot!(pretty(tokens));
}

/// A field under `#[cfg]` keeps its `#[cfg]` wherever the field is used;
/// an aggregate named like the store parameter pushes it to another name.
#[test]
fn unit_of_work_with_a_conditional_field_and_an_aggregate_named_s() {
    let item = quote! {
        pub(crate) struct Inventory {
            pub products: Product,
            #[cfg(feature = "audit")]
            pub audits: S,
        }
    };
    let tokens = expand::unit_of_work(&TokenStream::new(), &item).expect("expands");
    insta::assert_snapshot!(pretty(tokens));
}

/// `repository = "..."` renames the trait; an aggregate named `Q` pushes the
/// finder's key parameter to another name.
#[test]
fn aggregate_with_a_renamed_repository_named_q() {
    let input: DeriveInput = parse_quote! {
        #[derive(Aggregate)]
        #[aggregate(repository = "QRepo")]
        pub struct Q {
            #[aggregate(id)]
            pub id: u64,
            #[aggregate(version)]
            pub version: u64,
            #[aggregate(find_by, column = "position")]
            pub column: String,
        }
    };
    insta::assert_snapshot!(aggregate(input));
}

/// After an error, the placeholder keeps the types so that code using the
/// aggregate does not fail too.
#[test]
fn aggregate_placeholder_after_an_error() {
    let input: DeriveInput = parse_quote! {
        #[derive(Aggregate)]
        pub struct Product {
            #[aggregate(id)]
            pub sku: Sku,
            #[aggregate(version)]
            pub version: u64,
            #[aggregate(find_by, unique)]
            pub category: String,
        }
    };
    assert!(expand::derive_aggregate(&input).is_err());
    insta::assert_snapshot!(pretty(expand::aggregate_placeholder(&input)));
}

#[test]
fn unit_of_work_placeholder_keeps_a_function_as_written() {
    let item = quote!(
        async fn allocate() {}
    );
    assert!(expand::unit_of_work(&TokenStream::new(), &item).is_err());
    let placeholder = expand::unit_of_work_placeholder(&TokenStream::new(), &item);
    assert_eq!(placeholder.to_string(), item.to_string());
}

#[test]
fn aggregate_with_children() {
    let input: DeriveInput = parse_quote! {
        #[derive(Aggregate)]
        #[aggregate(table = "products")]
        pub struct Product {
            #[aggregate(id)]
            pub sku: Sku,
            #[aggregate(version)]
            pub version: u64,
            #[aggregate(children)]
            pub batches: Vec<Batch>,
            #[aggregate(children)]
            pub label: Option<Label>,
        }
    };
    insta::assert_snapshot!(aggregate(input));
}

#[test]
fn child_entity_with_nested_children_and_finders() {
    let input: DeriveInput = parse_quote! {
        #[derive(Entity)]
        #[entity(table = "batches")]
        pub struct Batch {
            #[entity(id, unique)]
            pub reference: BatchRef,
            #[entity(find_by)]
            pub eta: Option<NaiveDate>,
            pub quantity: u32,
            #[entity(children)]
            pub allocations: Vec<OrderLine>,
        }
    };
    insta::assert_snapshot!(pretty(expand::derive_entity(&input).expect("expands")));
}
