//! What a test owns on the shared services: a PostgreSQL database, a Redis
//! key prefix and a NATS JetStream prefix, each unique to the test and
//! removed when it ends (the servers themselves are never stopped).

pub use microcore_test_support::{create_database, database_url, drop_database};

pub use microcore_test_support::redis_keys::REDIS;
pub const NATS: &str = "nats://127.0.0.1:4222";

/// A fresh, uniquely named name for this test's resources.
pub fn unique_name() -> String {
    format!("mc_app_{}", uuid::Uuid::new_v4().simple())
}

/// Deletes every Redis key that starts with `prefix`.
pub async fn clear_redis_prefix(prefix: &str) {
    microcore_test_support::redis_keys::clear_prefix(prefix).await;
}

/// Deletes the JetStream streams the event bus made for `prefix`.
pub async fn delete_nats_prefix(prefix: &str) {
    let client = async_nats::connect(NATS).await.expect("NATS is up");
    let js = async_nats::jetstream::new(client);
    let _ = js.delete_stream(prefix).await;
    let _ = js.delete_stream(format!("{prefix}_dead_letters")).await;
}
