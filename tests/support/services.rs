//! What a test owns on the shared services: a PostgreSQL database, a Redis
//! key prefix and a NATS JetStream prefix, each unique to the test and
//! removed when it ends (the servers themselves are never stopped).

use sea_orm::{ConnectionTrait, Database};

pub const POSTGRES_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/postgres";
pub const REDIS: &str = "redis://127.0.0.1:6379";
pub const NATS: &str = "nats://127.0.0.1:4222";

/// A fresh, uniquely named name for this test's resources.
pub fn unique_name() -> String {
    format!("mc_app_{}", uuid::Uuid::new_v4().simple())
}

/// Creates the PostgreSQL database `name`.
pub async fn create_database(name: &str) {
    let admin = Database::connect(POSTGRES_ADMIN)
        .await
        .expect("PostgreSQL is up");
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
}

/// The URL of database `name` reached through `port` (5432, or a proxy).
pub fn database_url(name: &str, port: u16) -> String {
    format!("postgres://postgres@127.0.0.1:{port}/{name}")
}

/// Drops the database `name`, closing whatever still holds a connection.
pub async fn drop_database(name: &str) {
    let admin = Database::connect(POSTGRES_ADMIN).await.unwrap();
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .unwrap();
}

/// Deletes every Redis key that starts with `prefix`.
pub async fn clear_redis_prefix(prefix: &str) {
    let client = redis::Client::open(REDIS).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut conn)
        .await
        .unwrap();
    if !keys.is_empty() {
        let _: () = redis::cmd("DEL")
            .arg(keys)
            .query_async(&mut conn)
            .await
            .unwrap();
    }
}

/// Deletes the JetStream streams the event bus made for `prefix`.
pub async fn delete_nats_prefix(prefix: &str) {
    let client = async_nats::connect(NATS).await.expect("NATS is up");
    let js = async_nats::jetstream::new(client);
    let _ = js.delete_stream(prefix).await;
    let _ = js.delete_stream(format!("{prefix}_dead_letters")).await;
}
