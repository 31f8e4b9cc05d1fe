//! The app's wiring check as an ordinary test: `cargo test` catches a
//! plugin that needs a tool nobody links, before anything runs.

#[test]
fn the_app_is_wired_soundly() {
    let app = microcore_app::app();
    if let Err(errors) = app.check() {
        panic!("{errors}");
    }
    assert!(app.tools().len() >= 3, "tools were dropped by the linker");
    assert!(
        !app.plugins().is_empty(),
        "plugins were dropped by the linker"
    );
}
