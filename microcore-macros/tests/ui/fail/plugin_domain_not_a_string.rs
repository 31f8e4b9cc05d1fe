use microcore_macros_fixture::prelude::*;

#[plugin(domain = users)]
pub struct Ping {
    http: Http,
}

impl Plugin for Ping {}

fn main() {}
