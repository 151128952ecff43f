//! The rules beyond syntax, each reported at the attribute, field or type at
//! fault.

use super::{
    aggregate_errors, aggregate_with, assert_error, assert_one, column_value_errors, entity_errors,
    unit_of_work_errors,
};
use crate::valid::{is_identifier, is_reserved};

#[test]
fn only_structs_with_named_fields_are_aggregates() {
    let errors = aggregate_errors("enum Product { A, B }");
    assert_one(
        &errors,
        "`#[derive(Aggregate)]` needs a struct with named fields, not an enum",
        "enum Product",
    );
    let errors = aggregate_errors("union Product { a: u32, b: u64 }");
    assert_one(&errors, "not a union", "union Product");
    let errors = aggregate_errors("struct Product(Sku, u64);");
    assert_one(&errors, "not a tuple struct", "(Sku, u64)");
    let errors = aggregate_errors("struct Product;");
    assert_one(&errors, "not a unit struct", "Product");
}

#[test]
fn aggregates_are_not_generic() {
    let errors = aggregate_errors(
        "struct Product<'a, T> { #[aggregate(id)] sku: &'a T, #[aggregate(version)] version: u64 }",
    );
    assert_one(
        &errors,
        "`#[derive(Aggregate)]` does not support generic parameters or lifetimes",
        "<'a, T>",
    );
}

#[test]
fn an_aggregate_needs_an_id() {
    let errors =
        aggregate_errors("struct Product { sku: Sku, #[aggregate(version)] version: u64 }");
    assert_one(
        &errors,
        "`Product` has no id field: mark its identity field with `#[aggregate(id)]`",
        "Product",
    );
}

#[test]
fn an_aggregate_has_one_id() {
    let errors = aggregate_errors(&aggregate_with("#[aggregate(id)] code: String"));
    assert_one(
        &errors,
        "`Product` already has an id field, `sku`: an aggregate has exactly one `#[aggregate(id)]`",
        "id",
    );
}

#[test]
fn an_aggregate_needs_one_version() {
    let errors = aggregate_errors("struct Product { #[aggregate(id)] sku: Sku }");
    assert_one(
        &errors,
        "`Product` has no version field: add `#[aggregate(version)] pub version: u64`",
        "Product",
    );
    let errors = aggregate_errors(&aggregate_with("#[aggregate(version)] revision: u64"));
    assert_one(
        &errors,
        "`Product` already has a version field, `version`",
        "version",
    );
}

#[test]
fn the_version_type_is_checked_by_its_trait_not_its_spelling() {
    // `VersionNumber` decides, in rustc (see `tests/ui`): an alias or a
    // path of an integer type is accepted here.
    for ty in [
        "u64",
        "i64",
        "u32",
        "i32",
        "Version",
        "std::primitive::u64",
        "::core::primitive::i32",
    ] {
        let source = format!(
            "struct Product {{ #[aggregate(id)] sku: Sku, #[aggregate(version)] version: {ty} }}"
        );
        assert!(
            crate::expand::derive_aggregate(&super::input(&source)).is_ok(),
            "{ty}"
        );
    }
}

#[test]
fn the_id_is_not_an_option() {
    let errors = aggregate_errors(
        "struct Product { #[aggregate(id)] sku: Option<Sku>, #[aggregate(version)] version: u64 }",
    );
    assert_one(
        &errors,
        "the id cannot be an `Option`: a primary key is never NULL; declare `sku: Sku`",
        "Option<Sku>",
    );
}

#[test]
fn a_vec_of_events_without_its_key_is_told_to_take_it() {
    for field in [
        "events: Vec<ProductEvent>",
        "pending_events: Vec<Change>",
        "log: Vec<domain::StockEvent>",
    ] {
        let errors = aggregate_errors(&aggregate_with(field));
        assert_eq!(errors.len(), 1, "{field}: {errors:#?}");
        assert!(
            errors[0]
                .message
                .contains("mark it `#[aggregate(events)]` so that `commit()` returns them"),
            "{field}: {errors:#?}"
        );
    }
    // Stored lists and bytes are not events.
    for field in [
        "#[aggregate(json)] events: Vec<ProductEvent>",
        "payload: Vec<u8>",
    ] {
        let source = aggregate_with(field);
        assert!(
            crate::expand::derive_aggregate(&super::input(&source)).is_ok(),
            "{field}"
        );
    }
}

#[test]
fn the_id_is_not_the_version() {
    let errors = aggregate_errors("struct Product { #[aggregate(id, version)] sku: u64 }");
    assert_one(
        &errors,
        "a field cannot be both `id` and `version`: keep `sku` as the id and add a version of its own, `#[aggregate(version)] pub version: u64`",
        "version",
    );
}

#[test]
fn events_are_one_vec_and_never_stored() {
    let errors = aggregate_errors(&aggregate_with(
        "#[aggregate(events)] events: Vec<ProductEvent>, #[aggregate(events)] more: Vec<ProductEvent>",
    ));
    assert_one(
        &errors,
        "`Product` already has an events field, `events`",
        "events",
    );

    let errors = aggregate_errors(&aggregate_with(
        "#[aggregate(events)] events: ProductEvents",
    ));
    assert_one(
        &errors,
        "the events field must be a `Vec` of the aggregate's event type, such as `Vec<ProductEvents>`, not `ProductEvents`",
        "ProductEvents",
    );

    let errors = aggregate_errors(&aggregate_with(
        "#[aggregate(events)] events: Option<ProductEvent>",
    ));
    assert_one(
        &errors,
        "such as `Vec<ProductEvent>`, not `Option<ProductEvent>`",
        "Option<ProductEvent>",
    );

    let errors = aggregate_errors(&aggregate_with(
        "#[aggregate(events, find_by, json, column = \"evts\")] events: std::vec::Vec<ProductEvent>",
    ));
    assert_eq!(errors.len(), 3, "{errors:#?}");
    assert_error(
        &errors[0],
        "`find_by` cannot be used on the events field: events are never stored; remove `find_by`",
        "find_by",
    );
    assert_error(
        &errors[1],
        "`json` cannot be used on the events field",
        "json",
    );
    assert_error(
        &errors[2],
        "`column` cannot be used on the events field",
        "\"evts\"",
    );
}

#[test]
fn a_json_document_has_no_finder() {
    let errors = aggregate_errors(&aggregate_with(
        "#[aggregate(json, find_by)] batches: Vec<Batch>",
    ));
    assert_one(
        &errors,
        "`find_by` cannot be used on a `json` field: a JSON document cannot be looked up",
        "find_by",
    );
    let errors = aggregate_errors(&aggregate_with(
        "#[aggregate(unique, json)] batches: Vec<Batch>",
    ));
    assert_one(
        &errors,
        "`unique` cannot be used on a `json` field",
        "unique",
    );
}

#[test]
fn find_by_and_unique_exclude_each_other() {
    let errors = aggregate_errors(&aggregate_with("#[aggregate(find_by, unique)] ean: String"));
    assert_one(
        &errors,
        "`ean` cannot be both `find_by` and `unique`: keep `unique` for `get_by_ean` (one aggregate) or `find_by` for `find_by_ean` (several)",
        "unique",
    );
}

#[test]
fn the_id_needs_no_finder() {
    let errors = aggregate_errors(
        "struct Product { #[aggregate(id, unique)] sku: Sku, #[aggregate(version)] version: u64 }",
    );
    assert_one(
        &errors,
        "`unique` cannot be used on the id `sku`: `get` already looks aggregates up by id; remove `unique`",
        "unique",
    );
}

#[test]
fn table_names_are_sql_identifiers() {
    let errors = aggregate_errors(
        "#[aggregate(table = \"product-list\")] struct Product { #[aggregate(id)] sku: Sku, #[aggregate(version)] version: u64 }",
    );
    assert_one(
        &errors,
        "table name `product-list` is not a plain SQL identifier (ASCII letters, digits and `_`, not starting with a digit, at most 63 characters); choose another, such as `product_lists`",
        "\"product-list\"",
    );
    let long = "t".repeat(64);
    let errors = aggregate_errors(&format!(
        "#[aggregate(table = \"{long}\")] struct Product {{ #[aggregate(id)] sku: Sku, #[aggregate(version)] version: u64 }}"
    ));
    assert_one(
        &errors,
        "is not a plain SQL identifier",
        &format!("\"{long}\""),
    );
}

#[test]
fn a_reserved_table_name_from_the_type_name_suggests_setting_one() {
    let errors = aggregate_errors(
        "struct User { #[aggregate(id)] id: UserId, #[aggregate(version)] version: u64 }",
    );
    assert_one(
        &errors,
        "table name `user` (from the type name) is an SQL reserved word; set another with `#[aggregate(table = \"users\")]`",
        "User",
    );
    let errors = aggregate_errors(
        "#[aggregate(table = \"Order\")] struct Purchase { #[aggregate(id)] id: PurchaseId, #[aggregate(version)] version: u64 }",
    );
    assert_one(
        &errors,
        "table name `Order` is an SQL reserved word; choose another, such as `Orders`",
        "\"Order\"",
    );
}

#[test]
fn column_names_are_sql_identifiers() {
    let errors = aggregate_errors(&aggregate_with("order: u32"));
    assert_one(
        &errors,
        "column name `order` (from the field name) is an SQL reserved word; set another with `#[aggregate(column = \"product_order\")]`",
        "order",
    );
    let errors = aggregate_errors(&aggregate_with(
        "#[aggregate(column = \"9lives\")] lives: u32",
    ));
    assert_one(
        &errors,
        "column name `9lives` is not a plain SQL identifier (ASCII letters, digits and `_`, not starting with a digit, at most 63 characters); choose another, such as `product__9lives`",
        "\"9lives\"",
    );
    let errors = aggregate_errors(&aggregate_with("größe: u32"));
    assert_one(
        &errors,
        "column name `größe` (from the field name) is not a plain SQL identifier",
        "größe",
    );
    // Nothing usable is left of `名前`: no name to suggest.
    let errors = aggregate_errors(&aggregate_with("名前: u32"));
    assert_one(
        &errors,
        "set another with `#[aggregate(column = \"...\")]`",
        "名前",
    );
}

#[test]
fn two_fields_cannot_share_a_column() {
    let errors = aggregate_errors(&aggregate_with(
        "name: String, #[aggregate(column = \"NAME\")] display_name: String",
    ));
    assert_one(
        &errors,
        "column `NAME` is already used by field `name`; give `display_name` a column of its own, such as `#[aggregate(column = \"display_name\")]`",
        "\"NAME\"",
    );
}

#[test]
fn the_events_field_takes_no_column() {
    // `events` is not stored, so a field of the same name is no collision.
    let source = aggregate_with(
        "#[aggregate(events)] events: Vec<E>, #[aggregate(column = \"events\")] log: String",
    );
    assert!(crate::expand::derive_aggregate(&super::input(&source)).is_ok());
}

#[test]
fn every_rule_broken_by_an_aggregate_is_reported_at_once() {
    let errors = aggregate_errors(
        "struct User {
             #[aggregate(id)] id: UserId,
             #[aggregate(version)] version: u64,
             #[aggregate(json, unique)] roles: Vec<Role>,
             #[aggregate(events)] events: Events,
         }",
    );
    let found: Vec<(&str, &str)> = errors
        .iter()
        .map(|e| (e.message.as_str(), e.at.as_str()))
        .collect();
    assert_eq!(
        found,
        // In the order they appear in the source.
        [
            (
                "table name `user` (from the type name) is an SQL reserved word; set another with `#[aggregate(table = \"users\")]`",
                "User"
            ),
            (
                "`unique` cannot be used on a `json` field: a JSON document cannot be looked up; remove `unique`, or `json` if the type is a `ColumnValue`",
                "unique"
            ),
            (
                "the events field must be a `Vec` of the aggregate's event type, such as `Vec<Events>`, not `Events`",
                "Events"
            ),
        ]
    );
}

#[test]
fn sql_identifiers() {
    assert!(is_identifier("products"));
    assert!(is_identifier("_order_line2"));
    assert!(is_identifier(&"a".repeat(63)));
    assert!(!is_identifier(&"a".repeat(64)));
    assert!(!is_identifier(""));
    assert!(!is_identifier("2products"));
    assert!(!is_identifier("order lines"));
    assert!(!is_identifier("\"quoted\""));
    assert!(is_reserved("SELECT"));
    assert!(is_reserved("user"));
    assert!(!is_reserved("users"));
}

#[test]
fn an_entity_has_exactly_one_id() {
    let errors = entity_errors("struct Batch { reference: String }");
    assert_one(
        &errors,
        "`Batch` has no id field: mark its identity field with `#[entity(id)]`",
        "Batch",
    );
    let errors = entity_errors("struct Batch { #[entity(id)] a: String, #[entity(id)] b: String }");
    assert_one(&errors, "`Batch` already has an id field, `a`", "id");
    let errors = entity_errors("enum Batch { A }");
    assert_one(
        &errors,
        "`#[derive(Entity)]` needs a struct with named fields, not an enum",
        "enum Batch",
    );
    let errors = entity_errors("struct Batch<T> { #[entity(id)] a: T }");
    assert_one(
        &errors,
        "`#[derive(Entity)]` does not support generic parameters",
        "<T>",
    );
}

#[test]
fn a_column_value_wraps_exactly_one_field() {
    let errors = column_value_errors("struct Money(u64, String);");
    assert_one(
        &errors,
        "a column value wraps exactly one field, and `Money` has more: store a value object of several fields as one JSON document, with `#[aggregate(json)]` on the aggregate's field",
        "String",
    );
    let errors = column_value_errors("struct Money { amount: u64, currency: String }");
    assert_one(&errors, "wraps exactly one field", "String");
    let errors = column_value_errors("struct Nothing;");
    assert_one(&errors, "`Nothing` has none", "Nothing");
    let colour = syn::parse_str("enum Colour { Red, Green }").expect("parses");
    assert!(crate::expand::derive_column_value(&colour).is_ok());
    let errors = column_value_errors("enum Card { Cash, Card(String) }");
    assert_one(
        &errors,
        "`Card::Card` has fields: store an enum with data as one JSON document, with `#[aggregate(json)]`",
        "(String)",
    );
    let errors =
        column_value_errors("enum Status { Open, #[column_value(rename = \"Open\")] Reopened }");
    assert_one(
        &errors,
        "is stored as \"Open\", as `Status::Open` is",
        "\"Open\"",
    );
    let errors = column_value_errors("union Bits { a: u32 }");
    assert_one(
        &errors,
        "or an enum whose variants have no fields, not a union",
        "union Bits",
    );
    let errors = column_value_errors("struct Id<T>(T);");
    assert_one(&errors, "does not support generic parameters", "<T>");
}

#[test]
fn a_unit_of_work_is_a_struct_of_aggregates() {
    let errors = unit_of_work_errors("", "enum Allocation { A }");
    assert_one(
        &errors,
        "`#[unit_of_work]` goes on a struct whose fields name aggregates, not on an enum",
        "enum Allocation",
    );
    let errors = unit_of_work_errors("", "async fn allocate() {}");
    assert_one(&errors, "not on a function", "fn allocate");
    let errors = unit_of_work_errors("", "struct Allocation(Product);");
    assert_one(&errors, "`#[unit_of_work]` needs named fields", "(Product)");
    let errors = unit_of_work_errors("", "struct Allocation {}");
    assert_one(
        &errors,
        "a unit of work needs at least one repository field",
        "Allocation",
    );
    let errors = unit_of_work_errors("", "struct Allocation<S> { products: Product, s: S }");
    assert_one(
        &errors,
        "`#[unit_of_work]` does not take generic parameters",
        "<S>",
    );
}

#[test]
fn a_unit_of_work_has_one_repository_per_aggregate() {
    let errors = unit_of_work_errors(
        "",
        "struct Allocation { products: Product, orders: Order, more_products: Product }",
    );
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_error(
        &errors[0],
        "`Product` already has a repository in this unit of work, `products`: a unit of work holds one repository per aggregate",
        "Product",
    );
    assert!(errors[0].message.contains("`products`"));
}

#[test]
fn a_unit_of_work_brings_its_own_debug() {
    let errors = unit_of_work_errors(
        "",
        "#[derive(std::fmt::Debug)] struct Allocation { products: Product }",
    );
    assert_one(
        &errors,
        "a unit of work cannot derive `Debug`: it implements `Debug` itself (showing the repositories); remove `Debug` from this derive",
        "std::fmt::Debug",
    );
}

#[test]
fn derives_that_cannot_apply_to_a_unit_of_work_are_refused_one_error_each() {
    let errors = unit_of_work_errors(
        "",
        "#[derive(Clone, Default, PartialEq, serde::Serialize, MyOwnDerive)] struct Allocation { products: Product }",
    );
    let found: Vec<(&str, &str)> = errors
        .iter()
        .map(|e| (e.at.as_str(), e.message.as_str()))
        .collect();
    assert_eq!(found.len(), 4, "{found:#?}");
    for (at, (place, message)) in ["Clone", "Default", "PartialEq", "serde::Serialize"]
        .iter()
        .zip(&found)
    {
        assert_eq!(place, at);
        assert!(
            message.starts_with("a unit of work cannot derive"),
            "{message}"
        );
    }
}

#[test]
fn types_of_a_feature_are_told_to_enable_it_when_it_is_off() {
    use crate::valid::{feature_enabled, feature_of};
    for (ty, feature) in [
        ("time::OffsetDateTime", Some("time")),
        ("Option<PrimitiveDateTime>", Some("time")),
        ("time::Date", Some("time")),
        ("Date", None),
        ("chrono::DateTime<Utc>", Some("chrono")),
        ("NaiveDate", Some("chrono")),
        ("uuid::Uuid", Some("uuid")),
        ("Decimal", Some("decimal")),
        ("money::Decimal", None),
        ("String", None),
    ] {
        let parsed: syn::Type = syn::parse_str(ty).expect("type");
        assert_eq!(feature_of(&parsed), feature, "{ty}");
    }
    let source = aggregate_with("created: time::OffsetDateTime");
    let result = crate::expand::derive_aggregate(&super::input(&source));
    if feature_enabled("time") {
        assert!(result.is_ok());
    } else {
        assert_one(
            &super::reported(result),
            "`time::OffsetDateTime` is stored with uow-core's `time` feature, which is off: enable it",
            "time::OffsetDateTime",
        );
    }
}
