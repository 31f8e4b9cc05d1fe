//! What the db tool's suites share: a database of its own for each test
//! (see `microcore-test-support`), and the app of just the config, calls and db
//! tools that the boot suites start.

#![allow(dead_code, unreachable_pub)]

use microcore::App;

pub use microcore_test_support::{TestDb, on_both_backends};

/// The config, calls and db tools alone (no plugin), on `url`, with the
/// migrations linked into the test binary.
pub fn app(url: &str) -> App {
    App::linked()
        .retain_tools(|t| ["config", "calls", "db"].contains(&t.name))
        .retain_plugins(|_| false)
        .with_var("DATABASE_URL", url)
}

/// The error that stops `app`'s boot, checked to name the db tool.
pub async fn db_boot_error(app: App) -> String {
    let message = app.boot().await.unwrap_err().to_string();
    assert!(
        message.starts_with("error: tool 'db' (tools/db/src/tool.rs:"),
        "{message}"
    );
    message
}
