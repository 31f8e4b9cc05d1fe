//! `cargo run [serve|check|graph]`: see `--help`.

fn main() -> std::process::ExitCode {
    microcore_commands::main(microcore_app::app())
}
