use microcore_macros_fixture::prelude::*;

#[plugin]
pub enum Ping {
    Http(Http),
}

fn main() {}
