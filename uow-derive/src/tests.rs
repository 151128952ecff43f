//! Unit tests of the macros, run on token streams outside the compiler:
//! attribute reading, the rules, and snapshots of what is generated.

mod attributes;
mod expansion;
mod rules;

use proc_macro2::TokenStream;
use syn::DeriveInput;

use crate::expand;

/// One reported error: its message and the source text it points at.
#[derive(Debug)]
struct Reported {
    message: String,
    at: String,
}

/// Parses `source` (as written in a file, so that spans have locations).
fn input(source: &str) -> DeriveInput {
    syn::parse_str(source).expect("test input parses")
}

fn reported(result: syn::Result<TokenStream>) -> Vec<Reported> {
    match result {
        Ok(tokens) => panic!("expected errors, got:\n{tokens}"),
        Err(error) => error
            .into_iter()
            .map(|error| Reported {
                message: error.to_string(),
                at: error.span().source_text().unwrap_or_default(),
            })
            .collect(),
    }
}

fn aggregate_errors(source: &str) -> Vec<Reported> {
    reported(expand::derive_aggregate(&input(source)))
}

fn entity_errors(source: &str) -> Vec<Reported> {
    reported(expand::derive_entity(&input(source)))
}

fn column_value_errors(source: &str) -> Vec<Reported> {
    reported(expand::derive_column_value(&input(source)))
}

fn unit_of_work_errors(args: &str, item: &str) -> Vec<Reported> {
    let args: TokenStream = args.parse().expect("arguments lex");
    let item: TokenStream = item.parse().expect("item lexes");
    reported(expand::unit_of_work(&args, &item))
}

/// Asserts that exactly one error was reported, that its message contains
/// `message` and that it points at `at`.
#[track_caller]
fn assert_one(errors: &[Reported], message: &str, at: &str) {
    assert_eq!(errors.len(), 1, "expected one error, got {errors:#?}");
    assert_error(&errors[0], message, at);
}

#[track_caller]
fn assert_error(error: &Reported, message: &str, at: &str) {
    assert!(
        error.message.contains(message),
        "expected a message containing {message:?}, got {error:#?}"
    );
    assert_eq!(error.at, at, "error points elsewhere: {error:#?}");
}

/// A valid aggregate with `fields` added after its id and version.
fn aggregate_with(fields: &str) -> String {
    format!(
        "#[derive(Aggregate)] struct Product {{ #[aggregate(id)] sku: Sku, #[aggregate(version)] version: u64, {fields} }}"
    )
}
