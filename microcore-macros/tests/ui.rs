//! Compile errors of `#[plugin]` and `#[tool]`: one mistake per file under
//! `tests/ui/fail/`, with the expected message in the `.stderr` beside it.
//! Every file compiles against the kernel and `tests/fixture` (a few tool
//! handles), so no app's plugins show in a message.
//! Regenerate after an intended change with `TRYBUILD=overwrite`.

#[test]
fn attribute_misuse_is_a_spanned_compile_error() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/fail/*.rs");
    cases.pass("tests/ui/pass/*.rs");
}
