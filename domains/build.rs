//! Finds this crate's domains, plugins and migrations: see `microcore_build::domains`.

fn main() {
    microcore_build::domains();
}
