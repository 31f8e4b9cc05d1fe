// A subscriber taking the payload `T` instead of `Event<T>`.
use microcore::prelude::*;
use microcore_event_bus::EventBus;

#[derive(serde::Deserialize)]
pub struct UserDeleted {
    pub id: i64,
}

pub struct Cleanup {
    bus: EventBus,
}

impl Cleanup {
    async fn on_user_deleted(self: Arc<Self>, user: UserDeleted) -> Result<()> {
        let _ = user.id;
        Ok(())
    }

    async fn wire(self: &Arc<Self>) -> Result<()> {
        self.bus.subscribe("user.deleted", self, Self::on_user_deleted).await?;
        Ok(())
    }
}

fn main() {}
