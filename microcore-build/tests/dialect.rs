//! A domains crate whose shared migration holds SQLite's syntax: the build
//! script's checks embed an error naming the file and the pair to write;
//! per-backend files and portable shared files say nothing.

use std::fs;

#[test]
fn a_shared_migration_with_one_backends_syntax_is_an_error_naming_the_pair() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("domains");
    let migrations = root.join("notes/migrations");
    fs::create_dir_all(&migrations).unwrap();
    fs::write(
        migrations.join("0001_create_notes.sql"),
        "CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT DEFAULT (datetime('now')));",
    )
    .unwrap();
    fs::write(
        migrations.join("0002_add_tags.sqlite.sql"),
        "CREATE TABLE tags (id INTEGER PRIMARY KEY AUTOINCREMENT);",
    )
    .unwrap();
    fs::write(
        migrations.join("0002_add_tags.postgres.sql"),
        "CREATE TABLE tags (id BIGSERIAL PRIMARY KEY);",
    )
    .unwrap();
    fs::write(
        migrations.join("0003_index.sql"),
        "CREATE INDEX notes_at ON notes (at);",
    )
    .unwrap();

    let rust = microcore_build::checks(&root);
    assert_eq!(
        rust.matches("BuiltCheck::MigrationDialect").count(),
        1,
        "{rust}"
    );
    assert!(rust.contains("Severity::Error"), "{rust}");
    assert!(
        rust.contains("domains/notes/migrations/0001_create_notes.sql runs on both backends but holds SQLite-only syntax (`AUTOINCREMENT`, `DATETIME`): it fails on PostgreSQL"),
        "{rust}"
    );
    assert!(
        rust.contains("rename it to domains/notes/migrations/0001_create_notes.sqlite.sql and add domains/notes/migrations/0001_create_notes.postgres.sql"),
        "{rust}"
    );
}
