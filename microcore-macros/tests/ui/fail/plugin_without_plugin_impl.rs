use microcore_macros_fixture::prelude::*;

#[plugin]
pub struct Ping {
    http: Http,
}

fn main() {}
