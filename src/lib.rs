#![doc = include_str!("../README.md")]
//!
//! ## This crate
//!
//! This crate only names the crates the app is made of (generated from
//! `Cargo.toml` by `build.rs`, so the linker keeps their descriptors) and
//! hands them to the kernel. Tests use [`app`] to boot it in process.

// The linked crates, then `pub fn app()`: every tool and plugin of the
// example app (`microcore_app::app().boot()` in the tests).
include!(concat!(env!("OUT_DIR"), "/linked.rs"));

#[cfg(doctest)]
mod guides;
