//! Redis keys a test made, removed by their prefix.

/// The local Redis the tests use.
pub const REDIS: &str = "redis://127.0.0.1:6379";

/// Deletes every key on the local Redis that starts with `prefix`.
///
/// ```no_run
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// microcore_test_support::redis_keys::clear_prefix("mc_test_123:").await;
/// # }
/// ```
///
/// # Panics
/// When Redis cannot be reached: a test that made keys there must not
/// pass without removing them.
pub async fn clear_prefix(prefix: &str) {
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
