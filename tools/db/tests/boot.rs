//! The tool inside a booted app: migrations linked into the binary (as the
//! domains crate's build script links them) are applied at boot, once;
//! bad settings and an unreachable database stop the boot with one clear
//! error; the `migrate` command does exactly what it is asked.

mod common;

use std::process::ExitCode;

use common::{TestDb, app, db_boot_error, on_both_backends};
use microcore_db::{Db, MigrationState};
use sea_orm::{ConnectionTrait, Statement};

microcore_db::migration_entry! {
    domain: "boot",
    name: "0001_create_items",
    file: "domains/boot/migrations/0001_create_items.sql",
    up_sqlite: "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\nINSERT INTO items (id, name) VALUES (1, 'seed');",
    up_postgres: "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\nINSERT INTO items (id, name) VALUES (1, 'seed');",
    down_sqlite: Some("DROP TABLE items;"),
    down_postgres: Some("DROP TABLE items;"),
}

microcore_db::migration_entry! {
    domain: "boot",
    name: "0002_add_price",
    file: "domains/boot/migrations/0002_add_price.<backend>.sql",
    up_sqlite: "ALTER TABLE items ADD COLUMN price INTEGER NOT NULL DEFAULT 0;",
    up_postgres: "ALTER TABLE items ADD COLUMN price BIGINT NOT NULL DEFAULT 0;",
    down_sqlite: Some("ALTER TABLE items DROP COLUMN price;"),
    down_postgres: Some("ALTER TABLE items DROP COLUMN price;"),
}

async fn items(db: &Db) -> i64 {
    db.query_one_raw(Statement::from_string(
        db.backend(),
        "SELECT count(*) AS n FROM items".to_string(),
    ))
    .await
    .unwrap()
    .unwrap()
    .try_get::<i64>("", "n")
    .unwrap()
}

async fn boot_applies_linked_migrations_once(test: TestDb) {
    let running = app(&test.url).boot().await.unwrap();
    let db: Db = running.handle().unwrap();
    assert_eq!(items(&db).await, 1);
    let status = db
        .migration_status(&microcore_db::MIGRATIONS)
        .await
        .unwrap();
    assert_eq!(status.len(), 2);
    assert!(
        status
            .iter()
            .all(|m| matches!(m.state, MigrationState::Applied { .. }))
    );
    running.shutdown().await;

    // A second boot finds them applied: the seed row is not inserted twice.
    let running = app(&test.url).boot().await.unwrap();
    let db: Db = running.handle().unwrap();
    assert_eq!(items(&db).await, 1);
    running.shutdown().await;
}

/// Each migration's state, as a boot that applies none
/// (`DB_AUTO_MIGRATE=false`) reads it.
async fn states_without_migrating(url: &str) -> Vec<MigrationState> {
    let running = app(url)
        .with_var("DB_AUTO_MIGRATE", "false")
        .boot()
        .await
        .unwrap();
    let db: Db = running.handle().unwrap();
    let status = db
        .migration_status(&microcore_db::MIGRATIONS)
        .await
        .unwrap();
    running.shutdown().await;
    status.into_iter().map(|m| m.state).collect()
}

async fn auto_migrate_off_leaves_them_pending(test: TestDb) {
    let states = states_without_migrating(&test.url).await;
    assert!(states.iter().all(|s| *s == MigrationState::Pending));
}

on_both_backends!(
    boot_applies_linked_migrations_once,
    auto_migrate_off_leaves_them_pending
);

#[tokio::test]
async fn an_unknown_scheme_stops_the_boot_naming_database_url() {
    let message = db_boot_error(app("mysql://root:pw@localhost/app")).await;
    assert!(
        message.contains("DATABASE_URL='mysql://root:***@localhost/app' is invalid: expected sqlite://<file>, sqlite::memory: or postgres://"),
        "{message}"
    );
}

#[tokio::test]
async fn an_unreachable_database_stops_the_boot_with_the_masked_url() {
    let message = db_boot_error(app("postgres://postgres:hunter2@127.0.0.1:1/x")).await;
    assert!(
        message.contains("failed to start: cannot connect to the database at postgres://postgres:***@127.0.0.1:1/x (DATABASE_URL): "),
        "{message}"
    );
    assert!(message.contains("Connection refused"), "{message}");
    assert!(!message.contains("hunter2"), "{message}");
}

/// The `migrate` command, as `cargo run -- migrate …` runs it.
fn migrate(url: &str, args: &[&str]) -> ExitCode {
    let command = microcore_commands::COMMANDS
        .iter()
        .find(|c| c.name == "migrate")
        .expect("the db tool registers `migrate`");
    (command.run)(app(url), args.iter().map(|a| a.to_string()).collect())
}

fn status_of(url: &str) -> Vec<MigrationState> {
    in_runtime(states_without_migrating(url))
}

fn the_migrate_command_does_what_it_is_asked(test: TestDb) {
    let url = test.url.clone();
    assert_eq!(migrate(&url, &["status"]), ExitCode::SUCCESS);
    // DB_AUTO_MIGRATE is on by default, yet `status` applied nothing.
    assert!(
        status_of(&url)
            .iter()
            .all(|s| *s == MigrationState::Pending)
    );

    assert_eq!(migrate(&url, &["up", "--steps", "1"]), ExitCode::SUCCESS);
    let states = status_of(&url);
    assert!(matches!(states[0], MigrationState::Applied { .. }));
    assert_eq!(states[1], MigrationState::Pending);

    assert_eq!(migrate(&url, &["up"]), ExitCode::SUCCESS);
    assert_eq!(
        migrate(&url, &["down", "--domain", "boot"]),
        ExitCode::SUCCESS
    );
    let states = status_of(&url);
    assert!(matches!(states[0], MigrationState::Applied { .. }));
    assert_eq!(states[1], MigrationState::Pending);

    assert_eq!(migrate(&url, &["down", "--steps", "5"]), ExitCode::SUCCESS);
    assert!(
        status_of(&url)
            .iter()
            .all(|s| *s == MigrationState::Pending)
    );

    assert_eq!(
        migrate("postgres://postgres@127.0.0.1:1/x", &["status"]),
        ExitCode::FAILURE
    );
}

fn in_runtime<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Runtime::new().unwrap().block_on(f)
}

#[test]
fn the_migrate_command_on_sqlite() {
    let test = in_runtime(TestDb::sqlite());
    the_migrate_command_does_what_it_is_asked(test);
}

#[test]
fn the_migrate_command_on_postgres() {
    let test = in_runtime(TestDb::postgres());
    the_migrate_command_does_what_it_is_asked(test);
}
