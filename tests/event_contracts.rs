//! Event contracts checked on the booted app: a subscriber reading a field
//! the publisher does not send, and a subscription to a topic nobody
//! publishes, are reported naming both files.
#![allow(missing_docs, missing_debug_implementations)]

mod support;

use domains::prelude::*;
use microcore_commands::lint::Severity;

/// Reads a `phone` that `users.RegisterUser` never publishes.
#[plugin(domain = "sms")]
pub struct TextNewUsers {
    bus: EventBus,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewUserWithPhone {
    id: i64,
    phone: String,
}

/// Listens to a topic nobody publishes.
#[plugin(domain = "audit")]
pub struct AuditRefunds {
    bus: EventBus,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Refund {
    amount: i64,
}

impl Plugin for TextNewUsers {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        self.bus
            .subscribe("user.created", &self, Self::on_user_created)
            .with_schema()
            .await?;
        Ok(())
    }
}

impl TextNewUsers {
    async fn on_user_created(self: Arc<Self>, event: Event<NewUserWithPhone>) -> Result<()> {
        let _ = (event.payload.id, event.payload.phone);
        Ok(())
    }
}

impl Plugin for AuditRefunds {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        self.bus
            .subscribe("payment.refunded", &self, Self::on_refund)
            .with_schema()
            .await?;
        Ok(())
    }
}

impl AuditRefunds {
    async fn on_refund(self: Arc<Self>, event: Event<Refund>) -> Result<()> {
        let _ = event.payload.amount;
        Ok(())
    }
}

#[tokio::test]
async fn broken_contracts_name_both_files() {
    let running = support::app::boot_in_memory().await;
    let findings = microcore_commands::lint::run(&running);
    running.shutdown().await;

    let missing = findings
        .iter()
        .find(|f| f.code == "missing_field")
        .expect("a missing field is found");
    assert_eq!(missing.severity, Severity::Error);
    assert!(
        missing
            .message
            .contains("sms.TextNewUsers (tests/event_contracts.rs:"),
        "{}",
        missing.message
    );
    assert!(
        missing.message.contains("field 'phone' of 'user.created'"),
        "{}",
        missing.message
    );
    assert!(
        missing
            .message
            .contains("users.RegisterUser (domains/users/plugins/register_user.rs:"),
        "{}",
        missing.message
    );
    let unpublished = findings
        .iter()
        .find(|f| f.code == "unpublished_topic")
        .expect("an unpublished topic is found");
    assert_eq!(unpublished.severity, Severity::Warning);
    assert!(
        unpublished
            .message
            .contains("audit.AuditRefunds (tests/event_contracts.rs:"),
        "{}",
        unpublished.message
    );
    assert!(
        unpublished.message.contains("'payment.refunded'"),
        "{}",
        unpublished.message
    );
    // The example app's own subscribers read only what is published.
    assert!(
        !findings
            .iter()
            .any(|f| f.message.contains("users.Welcome") || f.message.contains("notifications.")),
        "{findings:#?}"
    );
}
