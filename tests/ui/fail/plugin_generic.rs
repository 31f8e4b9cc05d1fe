use domains::prelude::*;

#[plugin]
pub struct Ping<H> {
    http: H,
}

fn main() {}
