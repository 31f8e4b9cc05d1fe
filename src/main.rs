//! `cargo run [serve|check|graph]`: see `--help`.

fn main() -> std::process::ExitCode {
    microcore::cli::main(microcore_app::app())
}
