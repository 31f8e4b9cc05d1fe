//! The app's memory over its life (`microcore-commands/src/memory.rs`): a password
//! hash's work area (Argon2id, 19 MiB) goes back to the OS when the hash is
//! done, however many blocking threads ran one. Before the kernel fixed
//! glibc's mmap threshold, the first hash raised it and every later one
//! stayed in an arena: 19 MiB pinned per arena for the life of the process.

mod support;

use serde_json::json;

/// A field of `/proc/<pid>/status`, in KiB.
fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().strip_suffix(" kB"))
        .and_then(|kib| kib.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

#[tokio::test]
async fn password_hashes_give_their_work_memory_back() {
    let (app, _dir) = support::start_app(&[]);
    let pid = app.child.id();
    let client = reqwest::Client::new();
    let before = status_kib(pid, "RssAnon:");

    let created = client
        .post(format!("{}/users", app.base))
        .json(&json!({"name": "Mem", "email": "mem@example.com", "password": "correct horse"}))
        .send()
        .await
        .unwrap();
    assert!(created.status().is_success(), "{}", created.status());
    // Concurrent logins run their hashes on several blocking threads, each
    // of which may allocate from an arena of its own.
    let logins =
        (0..4).map(|_| support::login(&client, &app.base, "mem@example.com", "correct horse"));
    futures::future::join_all(logins).await;

    let after = status_kib(pid, "RssAnon:");
    assert!(
        after < before + 8 * 1024,
        "anonymous memory grew from {before} KiB to {after} KiB over five password hashes \
         (19 MiB of work memory each): their buffers stayed with the process"
    );
}
