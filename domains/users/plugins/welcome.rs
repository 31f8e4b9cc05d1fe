//! On `user.created`: send the welcome notice, announced as `welcome.notify.sent`.

use crate::prelude::*;

/// Welcomes new users.
#[plugin]
pub struct Welcome {
    bus: EventBus,
    log: Log,
}

/// What this subscriber reads from `user.created`: its own type, with only
/// the fields it needs (domains never share payload types).
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewUser {
    id: i64,
    email: String,
}

/// The payload of `welcome.notify.sent`.
#[derive(Debug, Serialize, ToSchema)]
pub struct WelcomeSent {
    user_id: i64,
    email: String,
}

impl Plugin for Welcome {
    async fn on_boot(self: Arc<Self>) -> Result<()> {
        self.bus.publishes::<WelcomeSent>("welcome.notify.sent");
        self.bus
            .subscribe("user.created", &self, Self::on_user_created)
            .with_schema()
            .await?;
        Ok(())
    }
}

impl Welcome {
    async fn on_user_created(self: Arc<Self>, event: Event<NewUser>) -> Result<()> {
        let NewUser { id, email } = event.payload;
        self.log.info(format!("welcome sent to user {id}"));
        self.bus
            .publish("welcome.notify.sent", &WelcomeSent { user_id: id, email })
            .await?;
        Ok(())
    }
}
