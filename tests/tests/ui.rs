//! Compile-time diagnostics of the macros: every misuse in `ui/` is one
//! clear compile error at the attribute, field or type at fault (checked
//! against its reviewed `.stderr`), and the inputs in `ui/pass/` compile.
//!
//! Regenerate the expected output after a deliberate change to a message with
//! `TRYBUILD=overwrite cargo test -p uow-tests --test ui`, then read every
//! changed `.stderr` as a user would before keeping it.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/aggregate/*.rs");
    t.compile_fail("ui/unit_of_work/*.rs");
    t.compile_fail("ui/entity/*.rs");
    t.compile_fail("ui/column_value/*.rs");
    t.pass("ui/pass/*.rs");
}
