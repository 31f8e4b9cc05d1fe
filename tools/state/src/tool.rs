//! The state tool's lifecycle: read the settings, connect, ping for health.
//!
//! Not critical: when Redis is down at boot the kernel marks `state` as
//! `FAIL` and skips only the plugins that need it. A bad `STATE_URL` is a
//! configuration error, which stops the boot whatever the tool.

use std::sync::OnceLock;

use microcore::prelude::*;
use microcore_calls::Calls;
use microcore_config::Config;

use crate::{State, StateSettings};

/// The built-in state tool: `memory://` or Redis, picked by `STATE_URL`.
///
/// Linking the crate is enough; an app (here one made of the config, calls
/// and state tools only) boots it like any other tool:
///
/// ```
/// use microcore::App;
/// use microcore_state::State;
/// use microcore_calls as _; // linkme keeps only the tools of named crates
/// use microcore_config as _;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let tools = microcore::TOOLS.iter().filter(|t| ["config", "calls", "state"].contains(&t.name));
/// let running = App::new(tools.collect(), vec![])
///     .with_var("STATE_URL", "memory://")
///     .boot()
///     .await
///     .unwrap();
/// assert_eq!(running.handle::<State>().unwrap().backend(), "memory");
/// running.shutdown().await;
/// # }
/// ```
#[tool]
#[derive(Debug)]
pub struct StateTool {
    config: Config,
    /// Where each call is reported (and timed, when someone records).
    calls: Calls,
    #[state]
    state: OnceLock<State>,
}

impl Tool for StateTool {
    type Handle = State;
    const DRY_RUN: &'static [(&'static str, &'static str)] = &[("STATE_URL", "memory://")];

    async fn setup(&self, _: &ToolContext) -> Result<State> {
        let settings = StateSettings::from_config(&self.config)?;
        let state = State::connect(&settings).await?;
        tracing::info!(
            url = %settings.url.redacted(),
            prefix = %settings.prefix,
            "state on {}",
            state.backend()
        );
        let _ = self.state.set(state.clone());
        Ok(state.with_calls(self.calls.clone()))
    }

    async fn health(&self) -> Health {
        let Some(state) = self.state.get() else {
            return Health::Failing("not set up".into());
        };
        match state.ping().await {
            Ok(()) => Health::Ok,
            Err(e) => Health::Failing(format!(
                "{} does not answer: {}",
                state.backend(),
                e.chain()
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool(pairs: &[(&str, &str)]) -> StateTool {
        StateTool {
            config: Config::from_pairs(pairs.iter().copied()),
            calls: Calls::default(),
            state: OnceLock::new(),
        }
    }

    fn ctx() -> ToolContext {
        ToolContext {
            registry: microcore::registry::AppRegistry::new(),
            vars: Default::default(),
            dry_run: false,
        }
    }

    #[tokio::test]
    async fn health_pings_the_backend() {
        let memory = tool(&[("STATE_URL", "memory://")]);
        assert!(matches!(memory.health().await, Health::Failing(_)));
        memory.setup(&ctx()).await.unwrap();
        assert_eq!(memory.health().await, Health::Ok);

        let redis = tool(&[("STATE_URL", "redis://127.0.0.1:6379")]);
        redis.setup(&ctx()).await.unwrap();
        assert_eq!(redis.health().await, Health::Ok);
    }

    #[tokio::test]
    async fn an_unreachable_redis_is_unavailable_not_a_config_error() {
        let down = tool(&[("STATE_URL", "redis://127.0.0.1:1")]);
        let e = down.setup(&ctx()).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unavailable);
        assert!(
            e.chain().contains("STATE_URL='redis://127.0.0.1:1'"),
            "{}",
            e.chain()
        );
    }
}
