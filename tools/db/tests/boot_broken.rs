//! A broken migration linked into the binary stops the boot with one error
//! naming the file, the statement and the database's message.

mod common;

use common::{TestDb, app, db_boot_error, on_both_backends};

microcore_db::migration_entry! {
    domain: "shop",
    name: "0001_create_orders",
    file: "domains/shop/migrations/0001_create_orders.sql",
    up_sqlite: "CREATE TABLE orders (id INTEGER PRIMARY KEY);\n\n-- a typo on line 4:\nCREATE TABLE order_lines (order_id INTEGER REFERENCES orders (id), qty INTEGR NOT NULL DEFAULT);\n",
    up_postgres: "CREATE TABLE orders (id INTEGER PRIMARY KEY);\n\n-- a typo on line 4:\nCREATE TABLE order_lines (order_id INTEGER REFERENCES orders (id), qty INTEGR NOT NULL DEFAULT);\n",
    down_sqlite: None,
    down_postgres: None,
}

async fn a_broken_migration_stops_the_boot(test: TestDb) {
    let message = db_boot_error(app(&test.url)).await;
    assert!(
        message.contains(
            "failed to start: migration domains/shop/migrations/0001_create_orders.sql failed at statement 2 of 2 (line 4):\n    CREATE TABLE order_lines"
        ),
        "{message}"
    );
    assert!(message.contains("\n  database said: "), "{message}");
    assert!(message.contains("syntax error"), "{message}");
    eprintln!("{message}");
}

on_both_backends!(a_broken_migration_stops_the_boot);
