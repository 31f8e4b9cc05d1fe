#![doc = include_str!("../README.md")]
//!
//! ## This crate
//!
//! This crate only names the crates the app is made of (generated from
//! `Cargo.toml` by `build.rs`, so the linker keeps their descriptors) and
//! hands them to the kernel. Tests use [`app`] to boot it in process.

include!(concat!(env!("OUT_DIR"), "/linked.rs"));

#[cfg(doctest)]
mod guides;

/// Every tool and plugin of the example app.
///
/// ```
/// let app = microcore_app::app();
/// assert!(app.plugins().iter().any(|p| p.qualified_name() == "ping.Ping"));
/// app.check().expect("the example app's wiring is sound");
/// ```
pub fn app() -> microcore::App {
    microcore::App::linked()
}
