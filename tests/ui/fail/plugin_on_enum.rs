use domains::prelude::*;

#[plugin]
pub enum Ping {
    Http(Http),
}

fn main() {}
