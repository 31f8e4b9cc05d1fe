use domains::prelude::*;

#[plugin(domain = users)]
pub struct Ping {
    http: Http,
}

impl Plugin for Ping {}

fn main() {}
