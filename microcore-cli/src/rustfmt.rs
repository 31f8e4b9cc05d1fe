//! Generated Rust goes through the user's own rustfmt, so a new file reads
//! like the rest of their code and passes `cargo fmt --check` as written.
//! Without rustfmt the source is written as generated: it compiles all
//! the same.

use std::io::Write as _;
use std::process::{Command, Stdio};

/// `source` formatted by `rustfmt --edition 2024`, or as it is if rustfmt
/// is missing or refuses it.
pub(crate) fn format(source: String) -> String {
    let Ok(mut child) = Command::new("rustfmt")
        .args(["--edition", "2024"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
    else {
        return source;
    };
    let Some(mut stdin) = child.stdin.take() else {
        return source;
    };
    let input = source.clone();
    // Written from another thread, so a full stdout pipe cannot stall us.
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output();
    let written = writer.join().is_ok_and(|w| w.is_ok());
    match output {
        Ok(out) if written && out.status.success() => {
            String::from_utf8(out.stdout).unwrap_or(source)
        }
        _ => source,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_or_keeps_the_source() {
        let out = super::format("fn  main( ) { }\n".to_string());
        assert!(
            out == "fn main() {}\n" || out == "fn  main( ) { }\n",
            "{out}"
        );
    }
}
