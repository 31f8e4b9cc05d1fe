use domains::prelude::*;

#[plugin]
pub struct Ping {
    http: Http,
}

fn main() {}
