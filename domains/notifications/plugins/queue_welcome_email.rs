//! On `user.created`: queue the welcome e-mail, announced as
//! `notification.queued`. Knows nothing of the users domain but the event.

use crate::prelude::*;

/// Queues a welcome e-mail for every new user.
#[plugin]
pub struct QueueWelcomeEmail {
    bus: EventBus,
    log: Log,
}

/// What this domain reads from `user.created`: its own type, only the
/// fields it needs.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreatedUser {
    id: i64,
    email: String,
}

/// The payload of `notification.queued`.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationQueued {
    user_id: i64,
    channel: &'static str,
    template: &'static str,
}

impl Plugin for QueueWelcomeEmail {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        self.bus.publishes::<NotificationQueued>("notification.queued");
        self.bus
            .subscribe("user.created", &self, Self::on_user_created)
            .with_schema()
            .await?;
        Ok(())
    }
}

impl QueueWelcomeEmail {
    async fn on_user_created(self: Arc<Self>, event: Event<CreatedUser>) -> Result<()> {
        let CreatedUser { id, email } = event.payload;
        self.log.info(format!("welcome e-mail queued for {email}"));
        let queued = NotificationQueued {
            user_id: id,
            channel: "email",
            template: "welcome",
        };
        self.bus.publish("notification.queued", &queued).key(id.to_string()).await?;
        Ok(())
    }
}
