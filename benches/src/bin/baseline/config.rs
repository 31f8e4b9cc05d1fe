//! The baseline's configuration, from the same variables as the app's, so
//! the harness starts both the same way.

use std::net::{IpAddr, SocketAddr};

/// Everything the server reads at start.
pub(crate) struct Settings {
    pub(crate) addr: SocketAddr,
    pub(crate) database_url: String,
    pub(crate) secret_key: Vec<u8>,
    pub(crate) log_level: String,
    /// `BASELINE_LAYERS=separate`: one `Router::layer` per middleware.
    pub(crate) separate_layers: bool,
    /// `BASELINE_QUERY=sqlx`: the plain server, one sqlx statement per
    /// user read instead of sea-orm's entity API (see `database.rs`).
    pub(crate) plain: bool,
}

impl Settings {
    /// Reads and checks the environment; the error names the variable.
    pub(crate) fn from_env() -> Result<Self, String> {
        let host: IpAddr = match std::env::var("HTTP_HOST") {
            Ok(v) => v.parse().map_err(|_| {
                format!("HTTP_HOST='{v}' is invalid: expected an IP address such as 127.0.0.1")
            })?,
            Err(_) => IpAddr::from([127, 0, 0, 1]),
        };
        let port: u16 = match std::env::var("HTTP_PORT") {
            Ok(v) => v.parse().map_err(|_| {
                format!("HTTP_PORT='{v}' is invalid: expected a port number from 0 to 65535")
            })?,
            Err(_) => 8000,
        };
        let database_url = std::env::var("DATABASE_URL")
            .ok()
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| "sqlite://baseline.db".into());
        if !(database_url.starts_with("sqlite:") || database_url.starts_with("postgres:")) {
            return Err(
                "DATABASE_URL is invalid: the baseline speaks SQLite (sqlite://<file>) or PostgreSQL (postgres://…)".into(),
            );
        }
        let secret_key = std::env::var("AUTH_SECRET_KEY")
            .map_err(|_| "AUTH_SECRET_KEY must be set (at least 32 bytes)".to_string())?
            .into_bytes();
        if secret_key.len() < 32 {
            return Err(format!(
                "AUTH_SECRET_KEY is too short: it has {} bytes, at least 32 are required",
                secret_key.len()
            ));
        }
        let separate_layers = match std::env::var("BASELINE_LAYERS").as_deref() {
            Err(_) | Ok("stack") => false,
            Ok("separate") => true,
            Ok(other) => {
                return Err(format!(
                    "BASELINE_LAYERS='{other}' is invalid: expected stack (the default) or separate"
                ));
            }
        };
        let plain = match std::env::var("BASELINE_QUERY").as_deref() {
            Err(_) | Ok("sea-orm") => false,
            Ok("sqlx") => true,
            Ok(other) => {
                return Err(format!(
                    "BASELINE_QUERY='{other}' is invalid: expected sea-orm (the default) or sqlx"
                ));
            }
        };
        Ok(Self {
            addr: SocketAddr::new(host, port),
            separate_layers,
            plain,
            database_url,
            secret_key,
            log_level: std::env::var("LOG_LEVEL").unwrap_or_else(|_| "info".into()),
        })
    }
}
