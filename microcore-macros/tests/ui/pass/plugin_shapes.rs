use microcore_macros_fixture::prelude::*;

/// No tools at all.
#[plugin(domain = "docs")]
pub struct Unit;
impl Plugin for Unit {}

/// Tools plus state that is not a tool.
#[plugin]
pub struct WithState {
    http: Http,
    log: Log,
    #[state]
    hits: std::sync::atomic::AtomicU64,
}
impl Plugin for WithState {}

fn main() {
    let names: Vec<&str> = microcore::PLUGINS.iter().map(|p| p.name).collect();
    assert!(names.contains(&"Unit") && names.contains(&"WithState"));
}
