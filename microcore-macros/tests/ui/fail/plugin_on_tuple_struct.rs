use microcore_macros_fixture::prelude::*;

#[plugin]
pub struct Ping(Http);

fn main() {}
