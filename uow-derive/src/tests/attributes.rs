//! Reading `#[aggregate(...)]` and friends: unknown keys, duplicates, flags
//! with values, values missing.

use super::{
    aggregate_errors, aggregate_with, assert_error, assert_one, column_value_errors, entity_errors,
    unit_of_work_errors,
};
use crate::ast::snake_case;
use crate::attr::{did_you_mean, edit_distance};
use crate::symbol;

#[test]
fn a_misspelt_key_suggests_the_right_one() {
    let errors = aggregate_errors(
        "struct Product { #[aggregate(id)] sku: Sku, #[aggregate(verison)] version: u64 }",
    );
    // Only the misspelling: that it leaves the aggregate without a version
    // field would be the same mistake reported twice.
    assert_one(
        &errors,
        "unknown key `verison` in `#[aggregate(...)]`; did you mean `version`?",
        "verison",
    );

    // A key that suggests another key, or none, leaves a missing id reported.
    for (key, unknown) in [
        ("jsn", "did you mean `json`?"),
        ("cascade", "expected `id`"),
    ] {
        let errors = aggregate_errors(&format!(
            "struct Product {{ #[aggregate({key})] sku: Sku, #[aggregate(version)] version: u64 }}"
        ));
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert_error(&errors[0], "`Product` has no id field", "Product");
        assert_error(&errors[1], unknown, key);
    }
}

#[test]
fn find_by_written_with_a_dash_or_run_together_suggests_find_by() {
    let errors = aggregate_errors(&aggregate_with("#[aggregate(find-by)] category: String"));
    assert_one(
        &errors,
        "unknown key `find-by` in `#[aggregate(...)]`; did you mean `find_by`?",
        "find-by",
    );

    let errors = aggregate_errors(&aggregate_with("#[aggregate(findby)] category: String"));
    assert_one(&errors, "did you mean `find_by`?", "findby");

    let errors = aggregate_errors(&aggregate_with("#[aggregate(findBy)] category: String"));
    assert_one(&errors, "did you mean `find_by`?", "findBy");
}

#[test]
fn a_synonym_suggests_our_name_for_it() {
    let errors = aggregate_errors(&aggregate_with("#[aggregate(rename = \"x\")] name: String"));
    assert_one(
        &errors,
        "unknown key `rename` in `#[aggregate(...)]`; did you mean `column`?",
        "rename",
    );
}

#[test]
fn an_unknown_key_far_from_any_lists_the_keys() {
    let errors = aggregate_errors(&aggregate_with("#[aggregate(skip)] cache: String"));
    assert_one(
        &errors,
        "unknown key `skip` in `#[aggregate(...)]`; expected `id`, `version`, `column`, `json`, `find_by`, `unique`, `events`, `decimal` or `children`",
        "skip",
    );
}

#[test]
fn a_struct_key_on_a_field_says_where_it_belongs() {
    let errors = aggregate_errors(&aggregate_with("#[aggregate(table = \"x\")] name: String"));
    assert_one(
        &errors,
        "`table` is set on the struct, not on a field: write `#[aggregate(table = \"products\")]` above the struct",
        "table",
    );
}

#[test]
fn a_field_key_on_the_struct_says_where_it_belongs() {
    let errors = aggregate_errors(
        "#[aggregate(find_by)] struct Product { #[aggregate(id)] sku: Sku, #[aggregate(version)] version: u64 }",
    );
    assert_one(
        &errors,
        "`find_by` is set on a field, not on the struct: write `#[aggregate(find_by)]` on the field it applies to",
        "find_by",
    );
}

#[test]
fn a_key_given_twice_is_an_error_on_the_second() {
    let errors = aggregate_errors(&aggregate_with(
        "#[aggregate(find_by, find_by)] category: String",
    ));
    assert_one(
        &errors,
        "`find_by` is given twice in `#[aggregate(...)]`; keep one",
        "find_by",
    );

    let errors = aggregate_errors(
        "#[aggregate(table = \"a\")] #[aggregate(table = \"b\")] struct Product { #[aggregate(id)] sku: Sku, #[aggregate(version)] version: u64 }",
    );
    assert_one(&errors, "`table` is given twice", "table");
}

#[test]
fn a_flag_given_a_value_is_an_error() {
    let errors = aggregate_errors(
        "struct Product { #[aggregate(id = 3)] sku: Sku, #[aggregate(version)] version: u64 }",
    );
    assert_one(
        &errors,
        "`id` is a flag and takes no value: write `#[aggregate(id)]`",
        "id = 3",
    );
}

#[test]
fn a_key_missing_its_value_is_an_error() {
    let errors = aggregate_errors(
        "#[aggregate(table)] struct Product { #[aggregate(id)] sku: Sku, #[aggregate(version)] version: u64 }",
    );
    assert_one(
        &errors,
        "`table` needs a value: `#[aggregate(table = \"products\")]`",
        "table",
    );

    let errors = aggregate_errors(&aggregate_with("#[aggregate(column =)] name: String"));
    assert_one(
        &errors,
        "`column` needs a value: `#[aggregate(column = \"name\")]`",
        "column =",
    );
}

#[test]
fn a_value_of_the_wrong_kind_is_an_error_at_the_value() {
    let errors = aggregate_errors(
        "#[aggregate(table = products)] struct Product { #[aggregate(id)] sku: Sku, #[aggregate(version)] version: u64 }",
    );
    assert_one(
        &errors,
        "`table` takes a string: `#[aggregate(table = \"products\")]`",
        "products",
    );
}

#[test]
fn the_crate_path_must_be_a_path() {
    let errors = aggregate_errors(
        "#[aggregate(crate = \"not a path\")] struct Product { #[aggregate(id)] sku: Sku, #[aggregate(version)] version: u64 }",
    );
    assert_one(
        &errors,
        "`crate` must be a path, such as `crate = \"::uow_core\"`; `not a path` is not one",
        "\"not a path\"",
    );
    let errors = entity_errors("#[entity(crate = 5)] struct Line { #[entity(id)] id: u32 }");
    assert_one(&errors, "`crate` takes a string holding a path", "5");
}

#[test]
fn a_bare_attribute_asks_for_keys() {
    let errors = aggregate_errors(&aggregate_with("#[aggregate] name: String"));
    assert_one(
        &errors,
        "`#[aggregate]` takes its keys in parentheses, such as `#[aggregate(id)]`",
        "#[aggregate]",
    );
    // It may have been meant as the id: no "has no id field" as well.
    let errors = aggregate_errors(
        "struct Product { #[aggregate] sku: Sku, #[aggregate(version)] version: u64 }",
    );
    assert_one(&errors, "takes its keys in parentheses", "#[aggregate]");
}

#[test]
fn the_attribute_of_the_other_derive_says_which_to_write() {
    let errors = entity_errors("struct Batch { #[aggregate(id)] reference: String }");
    assert_one(
        &errors,
        "`#[aggregate(...)]` belongs to `#[derive(Aggregate)]`; with `#[derive(Entity)]` write `#[entity(...)]`, such as `#[entity(id)]`",
        "aggregate",
    );
    let errors = aggregate_errors(
        "struct Product { #[entity(id)] sku: Sku, #[aggregate(version)] version: u64 }",
    );
    assert_one(
        &errors,
        "`#[entity(...)]` belongs to `#[derive(Entity)]`; with `#[derive(Aggregate)]` write `#[aggregate(...)]`, such as `#[aggregate(id)]`",
        "entity",
    );
}

#[test]
fn every_attribute_mistake_of_an_item_is_reported_at_once() {
    let errors = aggregate_errors(
        "#[aggregate(tabel = \"products\", eq_by_id = true)]
         struct Product {
             #[aggregate(id)] sku: Sku,
             #[aggregate(version)] version: u64,
             #[aggregate(jsn)] batches: Vec<Batch>,
             #[aggregate(unique, unique)] ean: String,
         }",
    );
    let found: Vec<(&str, &str)> = errors
        .iter()
        .map(|e| (e.message.as_str(), e.at.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (
                "unknown key `tabel` in `#[aggregate(...)]`; did you mean `table`?",
                "tabel"
            ),
            (
                "`eq_by_id` is a flag and takes no value: write `#[aggregate(eq_by_id)]`",
                "eq_by_id = true"
            ),
            (
                "unknown key `jsn` in `#[aggregate(...)]`; did you mean `json`?",
                "jsn"
            ),
            (
                "`unique` is given twice in `#[aggregate(...)]`; keep one",
                "unique"
            ),
        ]
    );
}

#[test]
fn entity_and_column_value_keys_are_checked_too() {
    let errors = entity_errors("#[entity(eq_by_di)] struct Line { #[entity(idd)] id: u32 }");
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert_error(
        &errors[0],
        "unknown key `eq_by_di` in `#[entity(...)]`; did you mean `eq_by_id`?",
        "eq_by_di",
    );
    assert_error(
        &errors[1],
        "unknown key `idd` in `#[entity(...)]`; did you mean `id`?",
        "idd",
    );
    let errors = entity_errors("struct Line { id: u32 }");
    assert_one(
        &errors,
        "`Line` has no id field: mark its identity field with `#[entity(id)]`",
        "Line",
    );

    let errors = column_value_errors(
        "#[column_value(crat = \"x\")] struct Sku(#[column_value(json)] String);",
    );
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert_error(
        &errors[0],
        "unknown key `crat` in `#[column_value(...)]`; did you mean `crate`?",
        "crat",
    );
    assert_error(
        &errors[1],
        "`#[column_value(...)]` takes no keys on a field; above the struct it takes `crate`",
        "json",
    );
}

#[test]
fn unit_of_work_arguments_are_checked() {
    let item = "pub struct Allocation { pub products: Product }";
    let errors = unit_of_work_errors("event = AllocationEvent", item);
    assert_one(
        &errors,
        "unknown argument `event` of `#[unit_of_work]`; did you mean `events`?",
        "event",
    );

    let errors = unit_of_work_errors("evnts = AllocationEvent, table = \"x\"", item);
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert_error(&errors[0], "did you mean `events`?", "evnts");
    assert_error(
        &errors[1],
        "unknown argument `table` of `#[unit_of_work]`; expected `events`",
        "table",
    );

    let errors = unit_of_work_errors("events", item);
    assert_one(
        &errors,
        "`events` needs a value: `#[unit_of_work(events = MyEvent)]`",
        "events",
    );

    let errors = unit_of_work_errors("events = \"AllocationEvent\"", item);
    assert_one(
        &errors,
        "`events` takes a type: `#[unit_of_work(events = MyEvent)]`",
        "\"AllocationEvent\"",
    );

    let errors = unit_of_work_errors("events = A, events = B", item);
    assert_one(
        &errors,
        "`events` is given twice in `#[unit_of_work(...)]`; keep one",
        "events",
    );
}

#[test]
fn suggestions_need_a_close_key() {
    let keys = symbol::AGGREGATE_FIELD_KEYS;
    let suggest = |typed| did_you_mean(typed, keys).map(|key| key.as_str());
    assert_eq!(suggest("verison"), Some("version"));
    assert_eq!(suggest("Version"), Some("version"));
    assert_eq!(suggest("is"), Some("id"));
    assert_eq!(suggest("uniq"), Some("unique"));
    assert_eq!(suggest("primary_key"), Some("id"));
    assert_eq!(suggest("event"), Some("events"));
    assert_eq!(suggest("serialize"), None);
    assert_eq!(suggest("x"), None);
    assert_eq!(did_you_mean("table", keys), None, "not a field key");
}

#[test]
fn edit_distance_counts_a_swap_as_one() {
    assert_eq!(edit_distance("version", "version"), 0);
    assert_eq!(edit_distance("verison", "version"), 1);
    assert_eq!(edit_distance("versio", "version"), 1);
    assert_eq!(edit_distance("", "id"), 2);
    assert_eq!(edit_distance("json", "jsno"), 1);
    assert_eq!(edit_distance("kitten", "sitting"), 3);
}

#[test]
fn table_names_default_to_snake_case() {
    assert_eq!(snake_case("Product"), "product");
    assert_eq!(snake_case("OrderLine"), "order_line");
    assert_eq!(snake_case("HTTPRequest"), "http_request");
    assert_eq!(snake_case("Batch2Line"), "batch2_line");
    assert_eq!(snake_case("ABC"), "abc");
    assert_eq!(snake_case("already_snake"), "already_snake");
}
