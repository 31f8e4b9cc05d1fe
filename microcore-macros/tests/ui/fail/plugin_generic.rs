use microcore_macros_fixture::prelude::*;

#[plugin]
pub struct Ping<H> {
    http: H,
}

fn main() {}
