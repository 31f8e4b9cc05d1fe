use domains::prelude::*;

#[plugin]
pub struct Ping(Http);

fn main() {}
