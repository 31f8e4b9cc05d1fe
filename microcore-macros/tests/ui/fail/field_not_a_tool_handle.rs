use microcore_macros_fixture::prelude::*;

#[plugin]
pub struct CountVisits {
    http: Http,
    visits: u64,
}

impl Plugin for CountVisits {}

fn main() {}
