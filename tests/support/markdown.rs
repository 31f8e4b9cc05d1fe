//! The fenced code blocks of the Markdown pages (README.md, docs/*.md),
//! for the tests that check every block is compiled or run.

#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};

/// One fenced block.
#[derive(Debug, Clone)]
pub struct Block {
    /// The page, relative to the checkout (`docs/guide.md`).
    pub page: String,
    /// The line of the opening fence, from 1.
    pub line: usize,
    /// What follows the opening fence: `rust,ignore`, `sh`, or empty.
    pub info: String,
    /// The lines between the fences, each ending in `\n`.
    pub code: String,
}

impl Block {
    /// `page:line`, for messages.
    pub fn at(&self) -> String {
        format!("{}:{}", self.page, self.line)
    }

    /// The language: the info string's first word (`rust` for `rust,ignore`).
    pub fn lang(&self) -> &str {
        self.info.split([',', ' ']).next().unwrap_or("")
    }

    /// A block rustdoc reads as Rust: `rust...` or no language at all.
    pub fn is_rust(&self) -> bool {
        matches!(self.lang(), "rust" | "")
    }

    /// The path its first line names (`// domains/hello/plugins/hello.rs — ...`
    /// or `-- domains/notes/migrations/0001_create_notes.sql`): where the
    /// block goes in an app.
    pub fn named_path(&self) -> Option<&str> {
        let first = self.code.lines().next()?;
        let rest = first
            .strip_prefix("// ")
            .or_else(|| first.strip_prefix("-- "))?;
        let path = rest.split_whitespace().next()?;
        let named = path.contains('/')
            && [".rs", ".sql"].iter().any(|ext| path.ends_with(ext))
            && !path.starts_with('/');
        named.then_some(path)
    }
}

/// README.md and every docs/*.md of the checkout at `root`, in name order.
pub fn pages(root: &Path) -> Vec<PathBuf> {
    let mut pages: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    pages.sort();
    pages.insert(0, root.join("README.md"));
    pages
}

/// Every fenced block of the page at `root.join(page)`.
pub fn blocks(root: &Path, page: &str) -> Vec<Block> {
    let text = std::fs::read_to_string(root.join(page)).unwrap();
    let mut blocks = Vec::new();
    let mut open: Option<Block> = None;
    for (i, line) in text.lines().enumerate() {
        let fence = line.trim_start().strip_prefix("```");
        match (&mut open, fence) {
            (None, Some(info)) => {
                open = Some(Block {
                    page: page.to_string(),
                    line: i + 1,
                    info: info.trim().to_string(),
                    code: String::new(),
                });
            }
            (Some(_), Some(_)) => blocks.extend(open.take()),
            (Some(block), None) => {
                block.code.push_str(line);
                block.code.push('\n');
            }
            (None, None) => {}
        }
    }
    assert!(open.is_none(), "{page}: a code block is never closed");
    blocks
}

/// Every block of README.md and docs/*.md.
pub fn all_blocks(root: &Path) -> Vec<Block> {
    pages(root)
        .iter()
        .flat_map(|p| {
            let page = p.strip_prefix(root).unwrap().to_str().unwrap().to_string();
            blocks(root, &page)
        })
        .collect()
}
