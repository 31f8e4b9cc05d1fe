//! The config tool's lifecycle: `.env` is read before anything else boots.

use std::sync::OnceLock;

use microcore::prelude::*;

use crate::Config;

/// What reading `.env` went wrong with, kept until `setup` can report it.
static ENV_FILE_ERROR: OnceLock<Option<String>> = OnceLock::new();

/// The built-in config tool: process environment plus `.env`.
#[tool]
#[derive(Debug)]
pub struct EnvConfig {}

impl Tool for EnvConfig {
    type Handle = Config;
    const CRITICAL: bool = true;

    fn pre_boot() {
        ENV_FILE_ERROR.get_or_init(|| match dotenvy::dotenv() {
            Ok(_) => None,
            Err(e) if e.not_found() => None,
            Err(e) => Some(format!(".env could not be read: {e}")),
        });
    }

    async fn setup(&self, ctx: &ToolContext) -> Result<Config> {
        if let Some(Some(problem)) = ENV_FILE_ERROR.get() {
            return Err(Error::config(problem.clone()));
        }
        let config = Config::from_vars(ctx.vars.clone());
        config.app_env()?;
        Ok(config)
    }
}
