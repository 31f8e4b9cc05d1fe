//! Architecture checks, tried the way a user would break them: in one copy
//! of the project (one build), a notifications plugin that imports from
//! the users domain, a migration of another domain that writes the users
//! table, and a plugin not named after its file. `check` reports each as
//! a warning naming its file and passes; `check --strict` fails; a boot
//! logs one line per finding; `/system/lint` lists them. (The example app
//! itself has none: tests/system_api.rs.)

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use support::project;

const CROSS_DOMAIN_PLUGIN: &str = r#"//! Greets a new user by reading the users domain's type: the mistake.

use crate::prelude::*;
use crate::users::models::UserProfile;

/// Greets new users.
#[plugin]
pub struct GreetNewUser {}

impl Plugin for GreetNewUser {}

impl GreetNewUser {
    /// What it would say.
    pub fn greeting(profile: &UserProfile) -> String {
        // crate::ping::plugins::ping in a comment is no finding.
        format!("hello {} (crate::ping::plugins::ping)", profile.name)
    }
}
"#;

/// In a domain after `users`, so it runs after the table exists.
const FOREIGN_WRITE: &str =
    "-- Another domain's table: the mistake.\nUPDATE users SET name = name WHERE id = 0;\n";

const MISNAMED_PLUGIN: &str = r#"//! GET /echo, in a file named for something else.

use crate::prelude::*;

/// Answers `GET /echo`.
#[plugin]
pub struct Echo {
    http: Http,
}

impl Plugin for Echo {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        self.http.get("/echo", &self, Self::execute);
        Ok(())
    }
}

impl Echo {
    async fn execute(self: Arc<Self>) -> Result<&'static str> {
        Ok("echo")
    }
}
"#;

const PLUGIN_FILE: &str = "domains/notifications/plugins/greet_new_user.rs";
const MIGRATION_FILE: &str = "domains/welcome/migrations/0001_backfill_users.sql";
const USERS_MIGRATION: &str = "domains/users/migrations/0001_create_users.sqlite.sql";
const MISNAMED_FILE: &str = "domains/ping/plugins/pong.rs";

fn write(root: &std::path::Path, file: &str, text: &str) {
    let path = root.join(file);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[tokio::test]
async fn each_architecture_mistake_is_reported_naming_its_file() {
    let sandbox = tempfile::tempdir().unwrap();
    let root = sandbox.path().join("app");
    let bin = project::renamed_copy(&root, "archcheck-app");
    write(&root, PLUGIN_FILE, CROSS_DOMAIN_PLUGIN);
    write(&root, MIGRATION_FILE, FOREIGN_WRITE);
    write(&root, MISNAMED_FILE, MISNAMED_PLUGIN);
    let binary = project::build(&root, &bin);

    // `check`: three warnings, each naming its file; warnings pass...
    let check = Command::new(&binary)
        .arg("check")
        .current_dir(sandbox.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&check.stdout);
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert_eq!(check.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("lint: 0 errors, 3 warnings"),
        "{stdout}\n{stderr}"
    );
    for expected in [
        format!(
            "warning[cross_domain_use]: {PLUGIN_FILE} (domain 'notifications') uses domain 'users': crate::users::models::UserProfile\n  --> {PLUGIN_FILE}\n"
        ),
        format!(
            "warning[shared_table]: table 'users' is created or written by the migrations of more than one domain: domain 'welcome' in {MIGRATION_FILE} (UPDATE); domain 'users' in "
        ),
        format!("  --> {MIGRATION_FILE}\n"),
        format!("  --> {USERS_MIGRATION}\n"),
        format!(
            "warning[plugin_name]: {MISNAMED_FILE}: its plugin struct is 'Echo', but a plugin is named after its file: 'Pong'\n  --> {MISNAMED_FILE}\n"
        ),
    ] {
        assert!(
            stderr.contains(&expected),
            "missing:\n{expected}\nin:\n{stderr}"
        );
    }
    assert!(
        !stderr.contains("crate::ping"),
        "a comment or a string is no finding:\n{stderr}"
    );

    // ...and `--strict` fails on them.
    let strict = Command::new(&binary)
        .args(["check", "--strict"])
        .current_dir(sandbox.path())
        .output()
        .unwrap();
    assert_eq!(
        strict.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&strict.stderr)
    );

    // A boot logs one warning line per finding and serves them at /system/lint.
    let app = support::start_binary(
        &binary,
        sandbox.path(),
        &[("DATABASE_URL", "sqlite::memory:")],
    );
    let mut lint_lines: Vec<String> = app
        .boot_log
        .iter()
        .filter(|l| l.contains("lint:"))
        .cloned()
        .collect();
    let deadline = Instant::now() + Duration::from_secs(10);
    while lint_lines.len() < 3 && Instant::now() < deadline {
        if let Ok(line) = app.logs.recv_timeout(Duration::from_millis(200))
            && line.contains("lint:")
        {
            lint_lines.push(line);
        }
    }
    for file in [PLUGIN_FILE, MIGRATION_FILE, MISNAMED_FILE] {
        assert_eq!(
            lint_lines
                .iter()
                .filter(|l| l.contains("WARN") && l.contains(file))
                .count(),
            1,
            "one warning line names {file}: {lint_lines:#?}"
        );
    }

    let lint: serde_json::Value = reqwest::get(format!("{}/system/lint", app.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let lint = &lint["data"];
    let arch = lint["arch_violations"].as_array().expect("a list");
    let summary: Vec<(&str, &str, &str)> = arch
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap(),
                f["severity"].as_str().unwrap(),
                f["files"][0].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("cross_domain_use", "warning", PLUGIN_FILE),
            ("plugin_name", "warning", MISNAMED_FILE)
        ],
        "{lint}"
    );
    assert!(
        arch.iter()
            .all(|f| f["help"].as_str().is_some_and(|h| !h.is_empty())),
        "{lint}"
    );
    let tables = lint["table_ownership_warnings"].as_array().expect("a list");
    assert_eq!(tables.len(), 1, "{lint}");
    assert_eq!(tables[0]["code"], "shared_table");
    let files: Vec<&str> = tables[0]["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f.as_str())
        .collect();
    assert_eq!(files[0], MIGRATION_FILE, "{lint}");
    assert!(files.contains(&USERS_MIGRATION), "{lint}");
    assert_eq!(lint["route_collisions"], serde_json::json!([]));
}
