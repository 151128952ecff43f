//! Where `uow_core` is, for the generated code: the path given with
//! `crate = "..."`, or else the name under which the user's manifest depends
//! on the `uow-core` package — found as `proc-macro-crate` finds it, so that a
//! renamed dependency (`uow = { package = "uow-core" }`) needs no attribute.
//! A crate that does not depend on `uow-core` (a facade re-exports it) gets
//! one error saying to write `crate = "..."`, and no generated code that
//! would repeat it at every field.
//!
//! An explicit path is named once, by a private `use` next to the item, and
//! the generated code goes through that import: a path that does not
//! resolve is then one error, at the `crate = "..."` string (rustc reports
//! nothing for the uses of a failed import).

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::ext::IdentExt;
use syn::{Ident, Path};

use crate::ctxt::Ctxt;

/// The package whose path the generated code needs.
const PACKAGE: &str = "uow-core";

/// The path of `uow_core` with the `use` to emit for it, or `None` (with
/// the error recorded at `at`) when the manifest does not depend on it and
/// no `crate = "..."` says where it is. `attr` is the attribute that takes
/// `crate` (`aggregate`, `unit_of_work`, ...) for the message; `owner` the
/// item the macro is on, which names the import.
pub fn resolve(
    cx: &Ctxt,
    explicit: Option<Path>,
    attr: &str,
    at: Span,
    owner: &Ident,
) -> Option<(Path, TokenStream)> {
    if let Some(path) = explicit {
        let alias = format_ident!("uow_core_for_{}_{}", owner.unraw(), attr);
        let import = quote! {
            #[allow(unused_imports)]
            use #path as #alias;
        };
        return Some((syn::parse_quote!(#alias), import));
    }
    match from_manifest() {
        Found::Name(name) => {
            let ident = Ident::new(&name, Span::call_site());
            Some((syn::parse_quote!(::#ident), TokenStream::new()))
        }
        Found::Missing => {
            cx.error_at(
                at,
                format!(
                    "this crate does not depend on `{PACKAGE}`, where the code generated here lives: add `{PACKAGE}` to `[dependencies]` in Cargo.toml, or, if another crate re-exports it, say where with `#[{attr}(crate = \"other_crate::uow_core\")]`"
                ),
            );
            None
        }
    }
}

enum Found {
    /// The crate's name in the user's code (`uow_core`, or a rename).
    Name(String),
    /// The manifest was read and names no dependency on `uow-core`.
    #[cfg_attr(test, allow(dead_code))]
    Missing,
}

#[cfg(not(test))]
fn from_manifest() -> Found {
    use proc_macro_crate::{Error, FoundCrate, crate_name};
    match crate_name(PACKAGE) {
        // `uow-core`'s own doc tests and examples: the crate is linked as
        // `uow_core`.
        Ok(FoundCrate::Itself) => Found::Name("uow_core".to_owned()),
        Ok(FoundCrate::Name(name)) => Found::Name(name),
        Err(Error::CrateNotFound { .. }) => Found::Missing,
        // Built outside cargo (no manifest to read): the default name.
        Err(_) => Found::Name("uow_core".to_owned()),
    }
}

/// The unit tests of the macros run outside any user crate.
#[cfg(test)]
fn from_manifest() -> Found {
    Found::Name("uow_core".to_owned())
}
