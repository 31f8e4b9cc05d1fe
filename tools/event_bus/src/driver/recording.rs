//! The recording driver behind [`EventBus::recording`](crate::EventBus::recording):
//! accepts every publish and delivers nothing.
//!
//! A plugin test then asserts on what the bus recorded, with no app booted
//! and no handler of another plugin running. The driver keeps the list, so
//! publishing on every other bus never looks at a test log.

use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use microcore::Result;
use microcore::sync::lock;
use tokio::sync::watch;

use super::{Consumer, DeadLetter, Delivery, Driver, Guarantee, no_dead_letter};
use crate::Envelope;

/// A transport that delivers nothing and keeps every publish for the test
/// kit ([`EventBus::published`](crate::EventBus::published)).
#[derive(Debug, Default)]
pub struct RecordingDriver {
    closed: watch::Sender<bool>,
    published: Mutex<Vec<Arc<Envelope>>>,
}

impl RecordingDriver {
    /// Every envelope published so far, oldest first.
    pub(crate) fn published(&self) -> Vec<Arc<Envelope>> {
        lock(&self.published).clone()
    }

    /// Forgets what was published so far.
    pub(crate) fn clear(&self) {
        lock(&self.published).clear();
    }
}

impl Driver for RecordingDriver {
    fn backend(&self) -> &'static str {
        "recording"
    }

    fn guarantee(&self) -> Guarantee {
        Guarantee::AtMostOnce
    }

    fn publish<'a>(&'a self, envelope: &'a Arc<Envelope>) -> BoxFuture<'a, Result<()>> {
        lock(&self.published).push(envelope.clone());
        Box::pin(async { Ok(()) })
    }

    fn consume<'a>(&'a self, _: &'a str, _: &'a str) -> BoxFuture<'a, Result<Box<dyn Consumer>>> {
        let consumer: Box<dyn Consumer> = Box::new(Idle {
            closed: self.closed.subscribe(),
        });
        Box::pin(async move { Ok(consumer) })
    }

    fn dead_letters(&self) -> BoxFuture<'_, Result<Vec<DeadLetter>>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    fn replay<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move { Err(no_dead_letter(id)) })
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        self.closed.send_replace(true);
        Box::pin(async {})
    }
}

/// A consumer that waits until the bus closes.
#[derive(Debug)]
struct Idle {
    closed: watch::Receiver<bool>,
}

impl Consumer for Idle {
    fn next(&self) -> BoxFuture<'_, Result<Option<Delivery>>> {
        let mut closed = self.closed.clone();
        Box::pin(async move {
            let _ = closed.wait_for(|c| *c).await;
            Ok(None)
        })
    }

    fn ack<'a>(&'a self, _: &'a Delivery) -> BoxFuture<'a, Result<()>> {
        Box::pin(async { Ok(()) })
    }

    fn retry<'a>(&'a self, _: &'a Delivery, _: std::time::Duration) -> BoxFuture<'a, Result<()>> {
        Box::pin(async { Ok(()) })
    }

    fn dead<'a>(&'a self, _: &'a Delivery, _: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async { Ok(()) })
    }
}
