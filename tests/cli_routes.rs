//! `routes` lists every route the app would serve with the plugin, the
//! file and who may call it, from a dry run that touches nothing real.

use std::process::{Command, Output};

use serde_json::Value;

fn routes(args: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_microcore-app"))
        .arg("routes")
        .args(args)
        .current_dir(dir.path())
        // A dry run: the real database URL is never used.
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .output()
        .unwrap();
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "a dry run writes no file"
    );
    out
}

#[test]
fn the_table_names_plugin_file_and_auth() {
    let out = routes(&[]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["METHOD", "PATH", "PLUGIN", "FILE", "AUTH"]);
    let row = |method: &str, path: &str| -> Vec<String> {
        text.lines()
            .map(|l| l.split_whitespace().map(String::from).collect::<Vec<_>>())
            .find(|cells| cells[0] == method && cells[1] == path)
            .unwrap_or_else(|| panic!("no {method} {path} in\n{text}"))
    };
    let get_user = row("GET", "/users/{user_id}");
    assert_eq!(get_user[2], "users.GetUser");
    assert!(
        get_user[3].starts_with("domains/users/plugins/get_user.rs:"),
        "{get_user:?}"
    );
    assert_eq!(get_user[4], "bearer");
    assert_eq!(row("GET", "/ping")[4], "-");
    assert_eq!(row("GET", "/system/status")[4], "SYSTEM_ROUTES");
    assert_eq!(row("GET", "/system/events/stream")[4], "SYSTEM_ROUTES");
}

#[test]
fn json_lists_the_same_rows() {
    let out = routes(&["--json"]);
    assert!(out.status.success(), "{out:?}");
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let register = rows
        .iter()
        .find(|r| r["method"] == "POST" && r["path"] == "/users")
        .expect("POST /users");
    assert_eq!(register["plugin"], "users.RegisterUser");
    assert_eq!(register["auth"], "-");
    assert!(
        register["file"]
            .as_str()
            .unwrap()
            .starts_with("domains/users/plugins/register_user.rs:")
    );
}

#[test]
fn an_unknown_argument_is_a_usage_error() {
    let out = routes(&["--yaml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--yaml"), "{err}");
}
