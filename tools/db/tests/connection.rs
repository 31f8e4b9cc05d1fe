//! Connecting, losing the database and getting it back, the 503
//! classification, transactions, health, and the in-memory test kit.

mod common;

use std::time::{Duration, Instant};

use common::{TestDb, on_both_backends};
use microcore::container::{Container, Wiring};
use microcore::registry::AppRegistry;
use microcore::{Error, ErrorKind, Health, ToolContext};
use microcore_config::Config;
use microcore_db::{Db, DbSettings, Migration, Selection};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, Statement};

#[tokio::test]
async fn an_unreachable_postgres_names_the_masked_url_and_the_driver_message() {
    let settings = DbSettings::for_url("postgres://postgres:hunter2@127.0.0.1:1/x");
    let e = Db::connect(&settings).await.unwrap_err();
    let message = e.to_string();
    assert!(
        message.starts_with("cannot connect to the database at postgres://postgres:***@127.0.0.1:1/x (DATABASE_URL): "),
        "{message}"
    );
    assert!(message.contains("Connection refused"), "{message}");
    assert!(!message.contains("hunter2"), "{message}");
    assert_eq!(e.kind(), ErrorKind::Unavailable);
}

#[tokio::test]
async fn a_sqlite_file_that_cannot_be_opened_says_so() {
    let settings = DbSettings::for_url("sqlite:///no/such/folder/app.db");
    let e = Db::connect(&settings).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "cannot connect to the database at sqlite:///no/such/folder/app.db (DATABASE_URL): unable to open database file [code 14]"
    );
}

#[tokio::test]
async fn a_missing_sqlite_file_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fresh.db");
    // No `mode=` in the URL: the file is created anyway.
    let db = Db::connect(&DbSettings::for_url(format!("sqlite://{}", file.display())))
        .await
        .unwrap();
    db.execute_unprepared("CREATE TABLE t (x INTEGER)")
        .await
        .unwrap();
    assert!(file.exists());
    let row = db
        .query_one_raw(Statement::from_string(
            db.backend(),
            "PRAGMA journal_mode".to_string(),
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.try_get_by_index::<String>(0).unwrap(), "wal");
    let row = db
        .query_one_raw(Statement::from_string(
            db.backend(),
            "PRAGMA foreign_keys".to_string(),
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.try_get_by_index::<i32>(0).unwrap(), 1);
}

#[tokio::test]
async fn connection_failures_become_503_and_query_errors_500() {
    let mut options = ConnectOptions::new("postgres://postgres@127.0.0.1:1/x");
    options
        .connect_lazy(true)
        .acquire_timeout(Duration::from_millis(300));
    let lost = Db::from(Database::connect(options).await.unwrap());
    let e: Error = lost
        .execute_unprepared("SELECT 1")
        .await
        .unwrap_err()
        .into();
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    assert_eq!(e.to_string(), "Service unavailable");

    let test = TestDb::postgres().await;
    let db = Db::connect(&DbSettings::for_url(&test.url)).await.unwrap();
    let e: Error = db.execute_unprepared("SELEC 1").await.unwrap_err().into();
    assert_eq!(e.kind(), ErrorKind::Internal);
}

#[tokio::test]
async fn a_lost_postgres_answers_503_and_recovers_when_it_returns() {
    let test = TestDb::postgres().await;
    let mut settings = DbSettings::for_url(&test.url);
    settings.acquire_timeout = Duration::from_secs(1);
    let db = Db::connect(&settings).await.unwrap();
    db.execute_unprepared("SELECT 1").await.unwrap();

    test.drop_database().await;
    let e: Error = db.execute_unprepared("SELECT 1").await.unwrap_err().into();
    assert_eq!(e.kind(), ErrorKind::Unavailable, "{}", e.chain());

    test.recreate_database().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match db.execute_unprepared("SELECT 1").await {
            Ok(_) => break,
            Err(e) if Instant::now() < deadline => {
                assert_eq!(Error::from(e).kind(), ErrorKind::Unavailable);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("the pool did not reconnect: {e}"),
        }
    }
}

async fn transactions_commit_or_roll_back(test: TestDb) {
    let db = Db::connect(&DbSettings::for_url(&test.url)).await.unwrap();
    db.execute_unprepared("CREATE TABLE accounts (id INTEGER PRIMARY KEY, cents INTEGER NOT NULL)")
        .await
        .unwrap();
    db.execute_unprepared("INSERT INTO accounts VALUES (1, 100), (2, 0)")
        .await
        .unwrap();

    // Handlers run on a multi-threaded runtime: the future must be Send.
    let handle = db.clone();
    let moved = tokio::spawn(async move {
        handle
            .transaction(async |txn| {
                txn.execute_unprepared("UPDATE accounts SET cents = cents - 30 WHERE id = 1")
                    .await?;
                txn.execute_unprepared("UPDATE accounts SET cents = cents + 30 WHERE id = 2")
                    .await?;
                Ok(30)
            })
            .await
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(moved, 30);

    let refused: Result<(), Error> = db
        .transaction(async |txn| {
            txn.execute_unprepared("UPDATE accounts SET cents = 0")
                .await?;
            Err(Error::business("insufficient funds").with_status(409))
        })
        .await;
    assert_eq!(refused.unwrap_err().kind(), ErrorKind::Business(409));

    let failed: Result<(), Error> = db
        .transaction(async |txn| {
            txn.execute_unprepared("UPDATE accounts SET cents = 0")
                .await?;
            txn.execute_unprepared("UPDATE no_such_table SET x = 1")
                .await?;
            Ok(())
        })
        .await;
    assert_eq!(failed.unwrap_err().kind(), ErrorKind::Internal);

    let rows = db
        .query_all_raw(Statement::from_string(
            db.backend(),
            "SELECT cents FROM accounts ORDER BY id".to_string(),
        ))
        .await
        .unwrap();
    let cents: Vec<i32> = rows
        .iter()
        .map(|r| r.try_get("", "cents").unwrap())
        .collect();
    assert_eq!(cents, [70, 30]);
}

on_both_backends!(transactions_commit_or_roll_back);

#[tokio::test]
async fn memory_databases_are_separate_and_keep_their_data() {
    const NOTES: Migration = Migration::shared(
        "notes",
        "0001_create_notes",
        "CREATE TABLE notes (body TEXT NOT NULL);",
        None,
    );
    let a = Db::memory_with(&[NOTES]).await.unwrap();
    let b = Db::memory_with(&[]).await.unwrap();
    a.execute_unprepared("INSERT INTO notes VALUES ('x')")
        .await
        .unwrap();
    assert!(b.execute_unprepared("SELECT * FROM notes").await.is_err());
    // Many concurrent users of the one connection see the same database.
    let reads = (0..8).map(|_| {
        let a = a.clone();
        tokio::spawn(async move {
            a.query_one_raw(Statement::from_string(
                a.backend(),
                "SELECT count(*) AS n FROM notes".to_string(),
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get::<i64>("", "n")
            .unwrap()
        })
    });
    for read in reads {
        assert_eq!(read.await.unwrap(), 1);
    }
    // Every linked migration (none in this test binary) applies.
    Db::memory().await.unwrap();
    assert!(
        a.migrate_up(&[NOTES], &Selection::default())
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn health_runs_select_1() {
    let test = TestDb::postgres().await;
    let config = Config::from_pairs([
        ("DATABASE_URL", test.url.as_str()),
        ("DB_ACQUIRE_TIMEOUT_SECS", "1"),
    ]);
    let mut container = Container::default();
    container.insert(config);
    container.insert(microcore_calls::Calls::default());
    let descriptor = microcore::TOOLS.iter().find(|t| t.name == "db").unwrap();
    assert!(descriptor.critical);
    let tool = (descriptor.construct)(&Wiring::new(&container, "test")).unwrap();
    assert_eq!(tool.health().await, Health::Failing("not connected".into()));
    let ctx = ToolContext {
        registry: AppRegistry::new(),
        vars: Default::default(),
        dry_run: false,
    };
    tool.setup(&ctx).await.unwrap();
    assert_eq!(tool.health().await, Health::Ok);
    test.drop_database().await;
    assert!(matches!(tool.health().await, Health::Failing(_)));
    tool.shutdown().await.unwrap();
}
