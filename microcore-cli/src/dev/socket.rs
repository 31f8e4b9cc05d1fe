//! The listening socket `dev` owns for its whole run: bound once, handed
//! to each new build of the app as fd 3, never closed between builds, so
//! connections made while the app restarts wait in the kernel's backlog
//! instead of being refused.

use std::net::TcpListener;
use std::path::Path;

use crate::failure::Failure;

/// `HTTP_HOST` when unset, as in the http tool.
const DEFAULT_HOST: &str = "127.0.0.1";
/// `HTTP_PORT` when unset, as in the http tool.
const DEFAULT_PORT: u16 = 8000;

/// A setting from the environment, else the project's `.env` (the app
/// reads them in the same order).
fn setting(root: &Path, name: &str) -> Result<Option<String>, Failure> {
    if let Ok(value) = std::env::var(name) {
        return Ok(Some(value));
    }
    let env_file = root.join(".env");
    if !env_file.is_file() {
        return Ok(None);
    }
    let entries = dotenvy::from_path_iter(&env_file)
        .map_err(|e| Failure::failed(format!("{} cannot be read: {e}", env_file.display())))?;
    for entry in entries {
        let (key, value) = entry
            .map_err(|e| Failure::failed(format!("{} is invalid: {e}", env_file.display())))?;
        if key == name {
            return Ok(Some(value));
        }
    }
    Ok(None)
}

/// Binds `HTTP_HOST:HTTP_PORT` (default `127.0.0.1:8000`).
pub(crate) fn bind(root: &Path) -> Result<TcpListener, Failure> {
    let host = setting(root, "HTTP_HOST")?.unwrap_or_else(|| DEFAULT_HOST.to_string());
    let port = match setting(root, "HTTP_PORT")? {
        None => DEFAULT_PORT,
        Some(raw) => raw.trim().parse().map_err(|_| {
            Failure::failed(format!(
                "HTTP_PORT='{raw}' is invalid: expected an integer from 0 to 65535"
            ))
        })?,
    };
    TcpListener::bind((host.as_str(), port)).map_err(|e| {
        Failure::failed(format!(
            "cannot listen on {host}:{port} (HTTP_HOST/HTTP_PORT): {e}\n  = help: stop what holds the port, or set HTTP_PORT (0 picks a free one)"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_env_file_is_read_when_the_environment_has_nothing() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(".env"),
            "MICROCORE_CLI_TEST_ONLY_VAR=from-file\n",
        )
        .unwrap();
        assert_eq!(
            setting(dir.path(), "MICROCORE_CLI_TEST_ONLY_VAR").unwrap(),
            Some("from-file".to_string())
        );
        assert_eq!(
            setting(dir.path(), "MICROCORE_CLI_UNSET_VAR").unwrap(),
            None
        );
    }
}
