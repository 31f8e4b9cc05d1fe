//! The SQLite file stops accepting writes under the running binary: the
//! database file and its write-ahead log are made immutable (`chattr +i`,
//! which the file system enforces even for root and even on descriptors
//! the app already holds open). Writes answer a 503 envelope, reads go on,
//! and once the file is writable again so is the app, with every
//! acknowledged write kept and the file intact (`PRAGMA integrity_check`).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{Value, json};

/// The immutable attribute on some files, taken off again when dropped
/// (so a failing test leaves a removable temporary directory).
struct Immutable(Vec<PathBuf>);

impl Immutable {
    /// `None` where the attribute cannot be set (no `CAP_LINUX_IMMUTABLE`,
    /// or a file system without it).
    fn set(files: Vec<PathBuf>) -> Option<Self> {
        let set = Command::new("chattr").arg("+i").args(&files).status();
        set.is_ok_and(|s| s.success()).then_some(Self(files))
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").args(&self.0).status();
    }
}

async fn register(client: &reqwest::Client, base: &str, i: u32) -> (StatusCode, Value) {
    let r = client
        .post(format!("{base}/users"))
        .json(&json!({"name": format!("U{i}"), "email": format!("u{i}@example.com"), "password": "password1"}))
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap())
}

async fn query(db_file: &Path, sql: &str) -> Vec<sea_orm::QueryResult> {
    let db = Database::connect(format!("sqlite://{}", db_file.display()))
        .await
        .unwrap();
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_read_only_sqlite_file_gives_503_keeps_reads_and_recovers() {
    let (mut app, dir) = support::start_app(&[]);
    let db_file = dir.path().join("microcore.db");
    let client = reqwest::Client::new();
    let mut acknowledged = Vec::new();
    for i in 0..5 {
        let (status, body) = register(&client, &app.base, i).await;
        assert_eq!(status, 201, "{body}");
        acknowledged.push(body["data"]["id"].as_i64().unwrap());
    }
    let token = support::login(&client, &app.base, "u0@example.com", "password1").await;

    let wal = dir.path().join("microcore.db-wal");
    assert!(wal.exists(), "the app's SQLite file is in WAL mode");
    let Some(fault) = Immutable::set(vec![db_file.clone(), wal]) else {
        eprintln!(
            "SKIPPED: `chattr +i` is not permitted here (needs CAP_LINUX_IMMUTABLE on ext4/xfs/btrfs)"
        );
        return;
    };

    let (status, body) = register(&client, &app.base, 100).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"success": false, "error": "Service unavailable"})
        )
    );
    let listed = client
        .get(format!("{}/users", app.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200, "reads go on while writes fail");
    let listed: Value = listed.json().await.unwrap();
    assert_eq!(listed["data"]["users"].as_array().unwrap().len(), 5);

    drop(fault);
    let deadline = Instant::now() + Duration::from_secs(10);
    let recovered_id = loop {
        let (status, body) = register(&client, &app.base, 101).await;
        if status == 201 {
            break body["data"]["id"].as_i64().unwrap();
        }
        assert_eq!(status, 503, "{body}");
        assert!(
            Instant::now() < deadline,
            "writes did not come back within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    acknowledged.push(recovered_id);
    assert!(support::terminate(&mut app).success());

    let check = query(&db_file, "PRAGMA integrity_check").await;
    assert_eq!(check[0].try_get_by_index::<String>(0).unwrap(), "ok");
    let rows = query(&db_file, "SELECT id, email FROM users ORDER BY id").await;
    let stored: Vec<i64> = rows.iter().map(|r| r.try_get("", "id").unwrap()).collect();
    assert_eq!(
        stored, acknowledged,
        "every acknowledged write, nothing else"
    );
    let emails: Vec<String> = rows
        .iter()
        .map(|r| r.try_get("", "email").unwrap())
        .collect();
    assert!(!emails.contains(&"u100@example.com".to_string()));
}
