//! The http tool's configuration, read and validated once at setup.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use microcore::Error;
use microcore_config::{ByteSize, Config};

/// Every `HTTP_*` variable, parsed (defaults in `docs/configuration.md`).
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// `HTTP_HOST` and `HTTP_PORT` (port 0: any free port).
    pub addr: SocketAddr,
    /// `HTTP_BODY_LIMIT`.
    pub body_limit: usize,
    /// `HTTP_MAX_URI_BYTES`: a longer request target is answered 414.
    pub max_uri_bytes: usize,
    /// `HTTP_MAX_HEADER_BYTES`: heavier header fields are answered 431.
    pub max_header_bytes: usize,
    /// `HTTP_TIMEOUT_SECS`.
    pub timeout: Duration,
    /// `HTTP_CORS_ORIGINS`: `None` for `*`.
    pub cors_origins: Option<Vec<String>>,
    /// `HTTP_CORS_CREDENTIALS`.
    pub cors_credentials: bool,
    /// `APP_NAME`: the OpenAPI document's title; the binary's name (the
    /// app package's, for a `microcore new` app) when unset.
    pub title: String,
}

impl HttpSettings {
    /// Reads and checks every setting.
    ///
    /// # Errors
    /// A configuration error naming the first bad variable.
    pub fn from_config(config: &Config) -> Result<Self, Error> {
        let host: IpAddr = config.get_with(
            "HTTP_HOST",
            "an IP address such as 127.0.0.1 or 0.0.0.0",
            IpAddr::from([127, 0, 0, 1]),
            |v| v.parse().ok(),
        )?;
        let port: u16 = config.get("HTTP_PORT", 8000)?;
        let body_limit = config.get("HTTP_BODY_LIMIT", ByteSize(1 << 20))?.0;
        let max_uri_bytes = positive(config, "HTTP_MAX_URI_BYTES", 8 << 10)?;
        let max_header_bytes = positive(config, "HTTP_MAX_HEADER_BYTES", 32 << 10)?;
        let timeout = config.get("HTTP_TIMEOUT_SECS", Duration::from_secs(30))?;
        if timeout.is_zero() {
            return Err(Error::config(
                "HTTP_TIMEOUT_SECS='0' is invalid: expected a number of seconds above 0",
            ));
        }
        let origins: String = config.get("HTTP_CORS_ORIGINS", "*".to_string())?;
        let cors_origins = match origins.trim() {
            "*" => None,
            list => Some(
                list.split(',')
                    .map(|o| o.trim().to_string())
                    .filter(|o| !o.is_empty())
                    .collect(),
            ),
        };
        let cors_credentials = config.get("HTTP_CORS_CREDENTIALS", false)?;
        if cors_credentials && cors_origins.is_none() {
            return Err(Error::config(
                "HTTP_CORS_CREDENTIALS=true cannot be combined with HTTP_CORS_ORIGINS='*': list the allowed origins, e.g. HTTP_CORS_ORIGINS=https://app.example.com",
            ));
        }
        let binary = std::env::current_exe()
            .ok()
            .and_then(|path| Some(path.file_stem()?.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "microcore app".into());
        let title = config.get("APP_NAME", binary)?;
        Ok(Self {
            title,
            addr: SocketAddr::new(host, port),
            body_limit,
            max_uri_bytes,
            max_header_bytes,
            timeout,
            cors_origins,
            cors_credentials,
        })
    }
}

/// A size setting that must be above 0 (a limit of 0 would refuse every request).
fn positive(config: &Config, name: &str, default: usize) -> Result<usize, Error> {
    let bytes = config.get(name, ByteSize(default))?.0;
    if bytes == 0 {
        return Err(Error::config(format!(
            "{name}='0' is invalid: expected a size above 0, such as {default} or 8KiB"
        )));
    }
    Ok(bytes)
}
