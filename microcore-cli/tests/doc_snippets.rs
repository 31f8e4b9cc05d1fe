//! Every Rust block of README.md and docs/*.md is compiled by the tests:
//!
//! - a block whose first line names a path (`// domains/hello/plugins/hello.rs`)
//!   is written there, as printed, in a new app, which this test builds,
//!   tests and boots (README's first plugin then answers as README says);
//! - a block right after a `$ microcore add plugin ...` transcript is part of
//!   the file that command writes: this test runs the command in the same
//!   app and checks the file holds the block;
//! - any other block is a doc test of the root package (README.md is its
//!   crate doc, src/guides.rs includes each page of docs/).
//!
//! A Rust block that is none of these fails here, naming its page and line.

mod support;

use std::collections::BTreeSet;
use std::path::Path;

use support::markdown::{Block, all_blocks};
use support::{Project, checkout, get_json, ok};

#[tokio::test]
async fn every_rust_block_of_the_docs_is_compiled_and_readmes_first_plugin_serves() {
    let root = checkout();
    let blocks = all_blocks(&root);
    let doc_tested = doc_tested_pages(&root);
    let mut named = Vec::new();
    let mut generated = Vec::new();
    let mut uncompiled = Vec::new();
    for (i, block) in blocks.iter().enumerate() {
        if let Some(path) = block.named_path() {
            named.push((path.to_string(), block));
        } else if !block.is_rust() {
            continue;
        } else if let Some(command) = add_command_before(&blocks, i) {
            generated.push((command, block));
        } else if !doc_tested.contains(&block.page) || block.info.contains("ignore") {
            uncompiled.push(block.at());
        }
    }
    assert!(
        uncompiled.is_empty(),
        "Rust blocks that no test compiles: {uncompiled:?}\n  = help: make the block \
         a doc test (drop `ignore`, give it context with hidden `# ` lines; a page of docs/ \
         must be included by src/guides.rs), or name the app file it belongs in on its \
         first line (`// domains/<domain>/plugins/<feature>.rs`)"
    );
    assert!(
        named
            .iter()
            .any(|(p, b)| p == "domains/hello/plugins/hello.rs" && b.page == "README.md"),
        "README's first plugin names its path: {named:?}"
    );

    let project = Project::fresh("doc-snippets-app");
    for (command, block) in &generated {
        let args = split_command(command);
        let out = ok(project.microcore(&args.iter().map(String::as_str).collect::<Vec<_>>()));
        let file = out
            .lines()
            .find_map(|l| l.strip_prefix("created "))
            .unwrap_or_else(|| panic!("`{command}` wrote no file:\n{out}"));
        let written = std::fs::read_to_string(project.dir.join(file)).unwrap();
        assert!(
            squeezed(&written).contains(&squeezed(&block.code)),
            "{}: the block is not part of {file} as `{command}` writes it:\n{written}",
            block.at()
        );
    }
    let mut written = BTreeSet::new();
    for (path, block) in &named {
        let file = project.dir.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        // A second block naming the same file continues it (a plugin, then its test).
        let mut text = if written.insert(path.clone()) {
            String::new()
        } else {
            std::fs::read_to_string(&file).unwrap() + "\n"
        };
        text.push_str(&block.code);
        std::fs::write(&file, text).unwrap();
    }

    let build = project.cargo(&["build"]);
    let shown = String::from_utf8_lossy(&build.stderr).into_owned();
    ok(build);
    for path in &written {
        assert!(
            !shown.contains(&format!("{path}:")),
            "building the docs' {path} warns:\n{shown}"
        );
    }
    // All default members, as `build` did: with `-p` cargo would resolve
    // other features and rebuild the tools.
    let tests = ok(project.cargo(&["test"]));
    for (path, block) in &named {
        for test in test_names(&block.code) {
            assert!(
                tests.contains(&format!("{test} ... ok")),
                "{}: the test `{test}` ({path}) did not pass:\n{tests}",
                block.at()
            );
        }
    }

    let (url, answer) = readme_promise(&root);
    let app = project.start().await;
    let (status, body) = get_json(&format!("{}{url}", app.base)).await;
    assert_eq!(
        (status, body),
        (200, serde_json::from_str(&answer).unwrap()),
        "README: `curl localhost:8000{url}` answers `{answer}`"
    );
}

/// Pages rustdoc compiles: README.md (the root package's crate doc) and
/// each page src/guides.rs includes.
fn doc_tested_pages(root: &Path) -> BTreeSet<String> {
    let mut pages = BTreeSet::new();
    for source in ["src/lib.rs", "src/guides.rs"] {
        let text = std::fs::read_to_string(root.join(source)).unwrap();
        for part in text.split("include_str!(\"../").skip(1) {
            pages.insert(part.split('"').next().unwrap().to_string());
        }
    }
    assert!(pages.contains("README.md"), "{pages:?}");
    pages
}

/// The `microcore add plugin ...` command of the transcript block just
/// before `blocks[i]` (`$ microcore add plugin demo hello --route "GET /hello"`).
fn add_command_before(blocks: &[Block], i: usize) -> Option<String> {
    let before = blocks.get(i.checked_sub(1)?)?;
    let command = before.code.lines().next()?.strip_prefix("$ microcore ")?;
    (before.page == blocks[i].page && command.starts_with("add plugin "))
        .then(|| command.to_string())
}

/// `add plugin demo hello --route "GET /hello"` as arguments.
fn split_command(command: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut quoted = false;
    let mut arg: Option<String> = None;
    for c in command.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                arg.get_or_insert_default();
            }
            ' ' if !quoted => args.extend(arg.take()),
            c => arg.get_or_insert_default().push(c),
        }
    }
    args.extend(arg);
    args
}

/// The `#[tokio::test]` functions of a block.
fn test_names(code: &str) -> Vec<String> {
    code.split("#[tokio::test]")
        .skip(1)
        .filter_map(|rest| {
            let rest = rest.trim_start().strip_prefix("async fn ")?;
            Some(rest.split('(').next()?.to_string())
        })
        .collect()
}

/// `text` with every run of whitespace as one space: rustfmt may wrap a
/// generated file differently from the page.
fn squeezed(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// README's promise for its first plugin: the path it curls and the JSON
/// it says comes back ("`curl localhost:8000/hello/ada` answers `{...}`").
fn readme_promise(root: &Path) -> (String, String) {
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let (_, rest) = readme
        .split_once("`curl localhost:8000/hello/")
        .expect("README curls /hello/<name>");
    let (name, rest) = rest.split_once('`').unwrap();
    let answer = rest.split('`').nth(1).expect("README shows the answer");
    (format!("/hello/{name}"), answer.to_string())
}
