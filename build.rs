//! Links every path crate of `[dependencies]`: see `microcore_build::app`.

fn main() {
    microcore_build::app();
}
