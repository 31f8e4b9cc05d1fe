//! The conformance suite on the in-process driver (`memory://`).

mod conformance;

use microcore_event_bus::{BusOptions, EventBus, Guarantee};

struct Memory;

impl conformance::Harness for Memory {
    async fn new() -> Self {
        Memory
    }

    async fn open(&self, options: BusOptions) -> EventBus {
        EventBus::connect("memory://", options).await.unwrap()
    }

    fn guarantee() -> Guarantee {
        Guarantee::AtMostOnce
    }
}

conformance::suite!(Memory);
