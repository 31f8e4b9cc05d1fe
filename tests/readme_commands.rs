//! Every shell command README.md shows is run by a test, as a user runs
//! it. The set-up block is the two commands CI itself is made of (`cargo
//! run`, which `ping_e2e` starts as a user would, and `./scripts/test`,
//! which is CI); every line of the other shell blocks is `cargo run --
//! <command>`, run here on this package's binary (what `cargo run --`
//! executes) in a fresh working directory after `cargo run` would have
//! migrated its database. A command of another kind fails this test: run
//! it here, or take it out of README.

mod support;

use std::path::Path;
use std::process::Command;

use support::markdown::blocks;
use support::scrub::scrubbed;

const APP: &str = env!("CARGO_BIN_EXE_microcore-app");

/// The settings a README reader has after `cargo run`: the defaults, a
/// secret key (doctor asks for one) and any free port.
const ENV: [(&str, &str); 2] = [
    ("AUTH_SECRET_KEY", "a-readme-reader-key-of-32-bytes-or-more"),
    ("HTTP_PORT", "0"),
];

fn run(dir: &Path, args: &str) -> std::process::Output {
    let mut command = scrubbed(Command::new("sh"));
    command
        .arg("-c")
        .arg(format!("\"$APP\" {args}"))
        .env("APP", APP)
        .env_remove("DATABASE_URL")
        .env_remove("EVENT_BUS_URL")
        .env_remove("STATE_URL")
        .env_remove("RUST_LOG")
        .current_dir(dir);
    for (name, value) in ENV {
        command.env(name, value);
    }
    command.output().unwrap()
}

#[test]
fn every_shell_command_of_the_readme_runs_and_exits_zero() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shell: Vec<_> = blocks(root, "README.md")
        .into_iter()
        .filter(|b| matches!(b.lang(), "sh" | "bash" | "shell" | "console"))
        .collect();
    assert_eq!(
        shell[0].code, "cargo run\n./scripts/test\n",
        "README starts with its two set-up commands"
    );
    let mut ran = Vec::new();
    for block in &shell[1..] {
        for line in block.code.lines() {
            let command = line.split(" #").next().unwrap_or_default().trim();
            if command.is_empty() {
                continue;
            }
            let args = command.strip_prefix("cargo run -- ").unwrap_or_else(|| {
                panic!(
                    "{}: `{command}` is run by no test: run it here or take it out of README",
                    block.at()
                )
            });
            let dir = tempfile::tempdir().unwrap();
            let migrated = run(dir.path(), "migrate up");
            assert!(migrated.status.success(), "{migrated:?}");
            let out = run(dir.path(), args);
            let shown = format!(
                "{}: `{command}` exited {:?}\nstdout:\n{}\nstderr:\n{}",
                block.at(),
                out.status.code(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(out.status.success(), "{shown}");
            // Its answer on stdout, or in the file it was redirected to.
            let redirected = args
                .split_once('>')
                .map(|(_, file)| std::fs::read(dir.path().join(file.trim())).unwrap());
            let answer = redirected.unwrap_or(out.stdout);
            assert!(answer.len() > 20, "{shown}");
            ran.push(args.to_string());
        }
    }
    assert!(ran.len() >= 8, "{ran:?}");
    assert!(ran.iter().any(|c| c == "doctor"), "{ran:?}");
}
