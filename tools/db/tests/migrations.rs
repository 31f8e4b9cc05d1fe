//! Migrations on a real SQLite file and a real PostgreSQL database: applied
//! in order and recorded, never twice, a broken one named precisely, an
//! edited one refused, reverted with their down files.

mod common;

use common::{TestDb, on_both_backends};
use microcore_db::{Db, DbSettings, Migration, MigrationState, Selection};
use sea_orm::{ConnectionTrait, DbBackend, Statement};

const NOTES: Migration = Migration::shared(
    "notes",
    "0001_create_notes",
    "-- the notes table; a ';' in a comment is fine\nCREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);\nINSERT INTO notes (id, body) VALUES (1, 'first; with a semicolon');\n",
    Some("DROP TABLE notes;"),
);

const TAGS: Migration = Migration::shared(
    "notes",
    "0002_create_tags",
    "CREATE TABLE tags (note_id INTEGER NOT NULL REFERENCES notes (id), tag TEXT NOT NULL);",
    Some("DROP TABLE tags;"),
);

/// Different SQL per backend, as `0001_x.sqlite.sql` + `0001_x.postgres.sql` would give.
const AUDIT: Migration = Migration {
    domain: "audit",
    name: "0001_create_log",
    up_sqlite: "CREATE TABLE audit_log (id INTEGER PRIMARY KEY AUTOINCREMENT, what TEXT NOT NULL);",
    up_postgres: "CREATE TABLE audit_log (id BIGSERIAL PRIMARY KEY, what TEXT NOT NULL);",
    down_sqlite: None,
    down_postgres: None,
    file: "domains/audit/migrations/0001_create_log.<backend>.sql",
};

async fn connect(db: &TestDb) -> Db {
    Db::connect(&DbSettings::for_url(&db.url))
        .await
        .expect("the test database answers")
}

async fn count(db: &Db, table: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(
            db.backend(),
            format!("SELECT count(*) AS n FROM {table}"),
        ))
        .await
        .expect("count")
        .expect("a row");
    row.try_get::<i64>("", "n").expect("n")
}

async fn table_exists(db: &Db, table: &str) -> bool {
    let sql = match db.backend() {
        DbBackend::Postgres => format!(
            "SELECT count(*) AS n FROM information_schema.tables WHERE table_name = '{table}'"
        ),
        _ => format!("SELECT count(*) AS n FROM sqlite_master WHERE name = '{table}'"),
    };
    let row = db
        .query_one_raw(Statement::from_string(db.backend(), sql))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap() > 0
}

async fn applies_in_order_and_records(test: TestDb) {
    let db = connect(&test).await;
    let all = [TAGS, AUDIT, NOTES]; // out of order on purpose
    let applied = db.migrate_up(&all, &Selection::default()).await.unwrap();
    let names: Vec<String> = applied
        .iter()
        .map(|m| format!("{}/{}", m.domain, m.name))
        .collect();
    assert_eq!(
        names,
        [
            "audit/0001_create_log",
            "notes/0001_create_notes",
            "notes/0002_create_tags"
        ]
    );
    assert_eq!(count(&db, "notes").await, 1);
    assert_eq!(count(&db, microcore_db::TABLE).await, 3);

    // A second "boot" (a new pool on the same database) applies nothing:
    // 0001 would fail if run again (the table exists) and its row is not doubled.
    db.close_by_ref().await.unwrap();
    let again = connect(&test).await;
    assert!(
        again
            .migrate_up(&all, &Selection::default())
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(count(&again, "notes").await, 1);
    let status = again.migration_status(&all).await.unwrap();
    assert!(
        status
            .iter()
            .all(|m| matches!(m.state, MigrationState::Applied { .. })),
        "{status:?}"
    );
}

async fn a_broken_migration_names_file_statement_and_database_message(test: TestDb) {
    let db = connect(&test).await;
    const BROKEN: Migration = Migration::shared(
        "notes",
        "0003_broken",
        "CREATE TABLE fine (x INTEGER);\n\nINSERT INTO fine VALUES (1);\nINSERT INTO no_such_table VALUES (1);\nCREATE TABLE never (x INTEGER);\n",
        None,
    );
    let e = db
        .migrate_up(&[NOTES, BROKEN], &Selection::default())
        .await
        .unwrap_err();
    let message = e.to_string();
    assert!(message.starts_with("migration domains/notes/migrations/0003_broken.sql failed at statement 3 of 4 (line 4):"), "{message}");
    assert!(
        message.contains("INSERT INTO no_such_table VALUES (1)"),
        "{message}"
    );
    let said = match db.backend() {
        DbBackend::Postgres => {
            "database said: relation \"no_such_table\" does not exist [code 42P01]"
        }
        _ => "database said: no such table: no_such_table [code 1]",
    };
    assert!(message.contains(said), "{message}");
    assert_eq!(e.kind(), microcore::ErrorKind::Internal);

    // Nothing of the broken file stayed; the good one before it did.
    let status = db.migration_status(&[NOTES, BROKEN]).await.unwrap();
    assert!(matches!(status[0].state, MigrationState::Applied { .. }));
    assert_eq!(status[1].state, MigrationState::Pending);
    assert!(!table_exists(&db, "fine").await);
}

async fn a_changed_migration_is_refused(test: TestDb) {
    let db = connect(&test).await;
    db.migrate_up(&[NOTES], &Selection::default())
        .await
        .unwrap();
    let edited = Migration {
        up_sqlite: "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);",
        up_postgres: "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);",
        ..NOTES
    };
    let e = db
        .migrate_up(&[edited, TAGS], &Selection::default())
        .await
        .unwrap_err();
    let message = e.to_string();
    assert!(
        message.starts_with("migration domains/notes/migrations/0001_create_notes.sql was changed after it was applied"),
        "{message}"
    );
    assert!(message.contains("help: restore the file"), "{message}");
    // Nothing else ran.
    let status = db.migration_status(&[edited, TAGS]).await.unwrap();
    assert!(
        matches!(status[0].state, MigrationState::Changed { .. }),
        "{status:?}"
    );
    assert_eq!(status[1].state, MigrationState::Pending);
}

async fn down_reverts_the_latest_ones(test: TestDb) {
    let db = connect(&test).await;
    let all = [NOTES, TAGS, AUDIT];
    db.migrate_up(&all, &Selection::default()).await.unwrap();

    // One step by default: the latest of the selected domain.
    let notes = Selection {
        domain: Some("notes".into()),
        steps: None,
    };
    let reverted = db.migrate_down(&all, &notes).await.unwrap();
    assert_eq!(reverted.len(), 1);
    assert_eq!(reverted[0].name, "0002_create_tags");
    let status = db.migration_status(&all).await.unwrap();
    let state = |name: &str| {
        status
            .iter()
            .find(|m| m.name == name)
            .unwrap()
            .state
            .clone()
    };
    assert_eq!(state("0002_create_tags"), MigrationState::Pending);
    assert!(matches!(
        state("0001_create_notes"),
        MigrationState::Applied { .. }
    ));

    // Up again re-applies it; then audit has no down file: a clear refusal.
    db.migrate_up(&all, &Selection::default()).await.unwrap();
    let e = db
        .migrate_down(
            &all,
            &Selection {
                domain: Some("audit".into()),
                steps: None,
            },
        )
        .await
        .unwrap_err();
    let backend = if db.backend() == DbBackend::Postgres {
        "postgres"
    } else {
        "sqlite"
    };
    assert_eq!(
        e.to_string(),
        format!(
            "migration domains/audit/migrations/0001_create_log.{backend}.sql has no down file, so it cannot be reverted\n  = help: add domains/audit/migrations/0001_create_log.down.sql (or one per backend, 0001_create_log.<backend>.down.sql)"
        )
    );

    // Two steps in notes: both tables gone, records deleted.
    let two = Selection {
        domain: Some("notes".into()),
        steps: Some(2),
    };
    let reverted = db.migrate_down(&all, &two).await.unwrap();
    let names: Vec<&str> = reverted.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["0002_create_tags", "0001_create_notes"]);
    assert_eq!(count(&db, microcore_db::TABLE).await, 1);
    assert!(!table_exists(&db, "notes").await);
}

async fn up_respects_domain_and_steps(test: TestDb) {
    let db = connect(&test).await;
    let all = [NOTES, TAGS, AUDIT];
    let one = Selection {
        domain: Some("notes".into()),
        steps: Some(1),
    };
    let applied = db.migrate_up(&all, &one).await.unwrap();
    assert_eq!(applied.len(), 1);
    assert_eq!(applied[0].name, "0001_create_notes");
    let status = db.migration_status(&all).await.unwrap();
    let pending: Vec<&str> = status
        .iter()
        .filter(|m| m.state == MigrationState::Pending)
        .map(|m| m.name.as_str())
        .collect();
    assert_eq!(pending, ["0001_create_log", "0002_create_tags"]);
}

async fn unknown_recorded_migrations_are_listed(test: TestDb) {
    let db = connect(&test).await;
    db.migrate_up(&[NOTES, TAGS], &Selection::default())
        .await
        .unwrap();
    let status = db.migration_status(&[NOTES]).await.unwrap();
    assert_eq!(status.len(), 2);
    assert!(
        matches!(status[1].state, MigrationState::Unknown { .. }),
        "{status:?}"
    );
    let e = db
        .migrate_down(&[NOTES], &Selection::default())
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("notes/0002_create_tags is recorded as applied but is not in this binary"),
        "{e}"
    );
}

async fn triggers_and_functions_survive(test: TestDb) {
    let db = connect(&test).await;
    let m = Migration {
        domain: "notes",
        name: "0009_body_trigger",
        up_sqlite: "CREATE TABLE t (x INTEGER, y INTEGER);\nCREATE TRIGGER t_y AFTER INSERT ON t BEGIN\n  UPDATE t SET y = CASE WHEN NEW.x > 0 THEN 1 ELSE 0 END WHERE rowid = NEW.rowid;\nEND;\nINSERT INTO t (x) VALUES (5);",
        up_postgres: "CREATE TABLE t (x INTEGER, y INTEGER);\nCREATE FUNCTION t_y() RETURNS trigger AS $$ BEGIN NEW.y := CASE WHEN NEW.x > 0 THEN 1 ELSE 0 END; RETURN NEW; END; $$ LANGUAGE plpgsql;\nCREATE TRIGGER t_y BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION t_y();\nINSERT INTO t (x) VALUES (5);",
        down_sqlite: None,
        down_postgres: None,
        file: "",
    };
    db.migrate_up(&[m], &Selection::default()).await.unwrap();
    let row = db
        .query_one_raw(Statement::from_string(
            db.backend(),
            "SELECT y FROM t".to_string(),
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.try_get::<i32>("", "y").unwrap(), 1);
}

async fn a_broken_down_file_is_named(test: TestDb) {
    let db = connect(&test).await;
    let m = Migration::shared(
        "notes",
        "0001_create_t",
        "CREATE TABLE t (x INTEGER);",
        Some("DROP TABLE t;\nDROP TABLE not_there;"),
    );
    db.migrate_up(&[m], &Selection::default()).await.unwrap();
    let e = db
        .migrate_down(&[m], &Selection::default())
        .await
        .unwrap_err();
    assert!(
        e.to_string().starts_with(
            "migration domains/notes/migrations/0001_create_t.sql (down) failed at statement 2 of 2 (line 2):\n    DROP TABLE not_there\n  database said: "
        ),
        "{e}"
    );
    // Rolled back: still applied, table still there.
    assert!(table_exists(&db, "t").await);
    assert!(matches!(
        db.migration_status(&[m]).await.unwrap()[0].state,
        MigrationState::Applied { .. }
    ));
}

on_both_backends!(
    a_broken_down_file_is_named,
    applies_in_order_and_records,
    a_broken_migration_names_file_statement_and_database_message,
    a_changed_migration_is_refused,
    down_reverts_the_latest_ones,
    up_respects_domain_and_steps,
    unknown_recorded_migrations_are_listed,
    triggers_and_functions_survive,
);

#[tokio::test]
async fn two_migrations_with_one_name_are_refused() {
    let e = Db::memory_with(&[NOTES, NOTES]).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "migration notes/0001_create_notes is defined twice; each migration name must be unique within its domain"
    );
}

#[tokio::test]
async fn replicas_migrating_at_once_apply_each_migration_once() {
    let test = TestDb::postgres().await;
    let all = [NOTES, TAGS, AUDIT];
    let runs = (0..4).map(|_| {
        let url = test.url.clone();
        tokio::spawn(async move {
            let db = Db::connect(&DbSettings::for_url(url)).await.unwrap();
            db.migrate_up(&all, &Selection::default())
                .await
                .map(|a| a.len())
        })
    });
    let mut total = 0;
    for run in runs.collect::<Vec<_>>() {
        total += run.await.unwrap().unwrap();
    }
    assert_eq!(total, 3);
    let db = connect(&test).await;
    assert_eq!(count(&db, "notes").await, 1);
}
