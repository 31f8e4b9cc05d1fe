//! What the CLI refuses, and how it says so: names that are not valid
//! snake_case identifiers (exit 2, the rule and a suggestion), files that
//! exist already (exit 1, nothing written, nothing overwritten), commands
//! run outside a project. No cargo build here: `new` only writes files.

mod support;

use std::path::Path;
use std::process::Output;

use support::{checkout, microcore, ok};

fn new_project(dir: &Path) -> std::path::PathBuf {
    ok(microcore(
        dir,
        &[
            "new",
            "shop",
            "--microcore-path",
            checkout().to_str().unwrap(),
        ],
    ));
    dir.join("shop")
}

fn refused(out: Output, code: i32) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    stderr
}

#[test]
fn invalid_names_are_rejected_with_the_rule_and_exit_2() {
    let sandbox = tempfile::tempdir().unwrap();
    let project = new_project(sandbox.path());
    let cases: &[(&[&str], &str)] = &[
        (
            &["add", "plugin", "demo", "CreateNote"],
            "error: 'CreateNote' is not a valid plugin name: use snake_case, a lowercase letter then lowercase letters, digits and single underscores between words (e.g. 'create_note')",
        ),
        (
            &["add", "domain", "my-domain"],
            "'my-domain' is not a valid domain name",
        ),
        (
            &["add", "domain", "type"],
            "'type' is not a valid domain name: it is a Rust keyword",
        ),
        (
            &["add", "domain", "prelude"],
            "'prelude' cannot be a domain name",
        ),
        (
            &["add", "plugin", "demo", "http"],
            "its struct `Http` would hide the prelude's `Http`",
        ),
        (
            &["add", "plugin", "demo", "x", "--route", "FETCH /x"],
            "--route 'FETCH /x' is invalid: 'FETCH' is not one of GET, POST, PUT, PATCH, DELETE",
        ),
        (
            &["add", "plugin", "demo", "x", "--route", "GET /users/:id"],
            "write path parameters as {name}",
        ),
        (
            &["add", "plugin", "demo", "x", "--event", "User Created"],
            "'User Created' is not a valid topic",
        ),
        (
            &["add", "tool", "db"],
            "'db' cannot be a tool name: microcore's own 'db' tool has it",
        ),
        (
            &["add", "migration", "demo", "1st"],
            "'1st' is not a valid migration name",
        ),
    ];
    for (args, message) in cases {
        let stderr = refused(microcore(&project, args), 2);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
    let stderr = refused(
        microcore(sandbox.path(), &["new", "x", "--name", "My App"]),
        2,
    );
    assert!(
        stderr.contains("'My App' is not a valid project name"),
        "{stderr}"
    );
    // Nothing was written by any of them.
    assert!(!project.join("domains/demo").exists());
    assert!(!project.join("tools").exists());
}

#[test]
fn nothing_is_overwritten() {
    let sandbox = tempfile::tempdir().unwrap();
    let project = new_project(sandbox.path());

    let hello = project.join("domains/demo/plugins/hello.rs");
    let out = ok(microcore(
        &project,
        &["add", "plugin", "demo", "hello", "--route", "GET /hello"],
    ));
    assert!(
        out.contains("created domains/demo/plugins/hello.rs"),
        "{out}"
    );
    assert!(
        std::fs::read_to_string(&hello)
            .unwrap()
            .contains("pub struct Hello {")
    );
    std::fs::write(&hello, "// mine\n").unwrap();
    let stderr = refused(
        microcore(
            &project,
            &["add", "plugin", "demo", "hello", "--event", "x.y"],
        ),
        1,
    );
    assert!(
        stderr.contains("domains/demo/plugins/hello.rs already exists: nothing was written"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&hello).unwrap(), "// mine\n");

    // A subfolder of the project is inside it too.
    ok(microcore(
        &project.join("domains"),
        &["add", "domain", "billing"],
    ));
    let stderr = refused(microcore(&project, &["add", "domain", "billing"]), 1);
    assert!(
        stderr.contains("domains/billing already exists"),
        "{stderr}"
    );

    ok(microcore(&project, &["add", "tool", "mailer"]));
    let manifest = std::fs::read_to_string(project.join("Cargo.toml")).unwrap();
    let stderr = refused(microcore(&project, &["add", "tool", "mailer"]), 1);
    assert!(
        stderr.contains("tools/mailer/Cargo.toml, tools/mailer/src/lib.rs already exist"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(project.join("Cargo.toml")).unwrap(),
        manifest
    );

    ok(microcore(
        &project,
        &["add", "migration", "billing", "create_invoices"],
    ));
    let stderr = refused(
        microcore(
            &project,
            &["add", "migration", "billing", "create_invoices"],
        ),
        1,
    );
    assert!(
        stderr.contains("0001_create_invoices.sql already has the name 'create_invoices'"),
        "{stderr}"
    );
    ok(microcore(
        &project,
        &["add", "migration", "billing", "add_due_date"],
    ));
    assert!(
        project
            .join("domains/billing/migrations/0002_add_due_date.sql")
            .is_file()
    );

    let stderr = refused(
        microcore(
            sandbox.path(),
            &[
                "new",
                "shop",
                "--microcore-path",
                checkout().to_str().unwrap(),
            ],
        ),
        1,
    );
    assert!(
        stderr.starts_with("error: shop/Cargo.toml, shop/build.rs, shop/src/main.rs"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was written"), "{stderr}");
}

#[test]
fn add_outside_a_project_says_where_to_run_it() {
    let sandbox = tempfile::tempdir().unwrap();
    let stderr = refused(microcore(sandbox.path(), &["add", "domain", "x"]), 1);
    assert!(
        stderr.contains("is not inside a microcore project"),
        "{stderr}"
    );
    let stderr = refused(
        microcore(
            sandbox.path(),
            &[
                "new",
                "x",
                "--microcore-path",
                sandbox.path().to_str().unwrap(),
            ],
        ),
        1,
    );
    assert!(stderr.contains("is not a microcore checkout"), "{stderr}");
}
