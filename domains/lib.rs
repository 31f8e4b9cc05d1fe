//! The example app's domains. Each folder here is a domain; each file in a
//! domain's `plugins/` folder is one feature, found by `build.rs`: drop a
//! file in and it is compiled and booted, with no `mod` line to write.
#![allow(missing_debug_implementations)]

pub mod prelude;

include!(concat!(env!("OUT_DIR"), "/domains.rs"));
