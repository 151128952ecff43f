//! Writes the tokens. Each macro has its module; each module has a function
//! that checks and expands (`Err` holds every error found) and a placeholder
//! emitted next to the errors, so that one mistake is not followed by a cascade
//! of errors about the missing impls.

mod aggregate;
mod column_value;
mod entity;
mod query;
mod spans;
mod unit_of_work;

pub use aggregate::{derive as derive_aggregate, placeholder as aggregate_placeholder};
pub use column_value::{derive as derive_column_value, placeholder as column_value_placeholder};
pub use entity::{derive as derive_entity, placeholder as entity_placeholder};
pub use unit_of_work::{expand as unit_of_work, placeholder as unit_of_work_placeholder};

use proc_macro2::TokenStream;
use quote::quote;

/// `#[doc = "..."]` attributes, one per line of `text`, so that the
/// generated item reads like a hand-written `///` comment.
fn doc(text: &str) -> TokenStream {
    let lines = text.lines().map(|line| {
        if line.is_empty() {
            String::new()
        } else {
            format!(" {line}")
        }
    });
    quote!(#(#[doc = #lines])*)
}

/// Whether the real code is generated or a placeholder after errors.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// The input passed every check.
    Complete,
    /// The input has errors: emit impls with the right shape and
    /// `unimplemented!()` bodies, so that code using them still type-checks.
    Placeholder,
}

/// The body of a placeholder method.
fn unimplemented() -> TokenStream {
    quote!(::core::unimplemented!("the derive reported an error"))
}
