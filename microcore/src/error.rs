//! The one error type of plugins and tools.
//!
//! Each kind maps to one HTTP status in the http tool's envelope, so a
//! handler says *what* went wrong and the transport decides how it looks.
//! The kernel itself knows no HTTP: statuses are plain numbers here.

use std::borrow::Cow;
use std::fmt;

/// What went wrong, as far as a caller needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input broke a rule; see [`Error::details`]. HTTP 422.
    Validation,
    /// A business rule was broken; the status is the plugin's choice (400 by default).
    Business(u16),
    /// No credentials, or bad ones. HTTP 401.
    Unauthenticated,
    /// Credentials, but not allowed. HTTP 403.
    Forbidden,
    /// The thing asked for does not exist. HTTP 404.
    NotFound,
    /// A dependency (database, bus) cannot be reached. HTTP 503.
    Unavailable,
    /// Anything else: a bug or an unexpected failure. HTTP 500, details in the log only.
    Internal,
    /// The configuration is invalid: stops the boot wherever it is raised.
    Config,
}

impl ErrorKind {
    /// The HTTP status this kind maps to.
    pub fn status(self) -> u16 {
        match self {
            ErrorKind::Validation => 422,
            ErrorKind::Business(status) => status,
            ErrorKind::Unauthenticated => 401,
            ErrorKind::Forbidden => 403,
            ErrorKind::NotFound => 404,
            ErrorKind::Unavailable => 503,
            ErrorKind::Internal | ErrorKind::Config => 500,
        }
    }
}

/// One invalid input field of a [`ErrorKind::Validation`] error.
///
/// Never holds the submitted value: error bodies must not echo input.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    /// The field's name (`email`, `limit`, ...).
    pub field: String,
    /// What rule it broke.
    pub message: String,
}

type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The error a plugin's handler, `on_boot` or a tool returns.
///
/// ```
/// use microcore::{Error, ErrorKind};
///
/// let e = Error::not_found("User not found");
/// assert_eq!(e.kind().status(), 404);
/// assert_eq!(e.to_string(), "User not found");
///
/// // Any std error converts with `?` into an internal error (HTTP 500).
/// fn parse(s: &str) -> Result<u32, Error> { Ok(s.parse::<u32>()?) }
/// assert_eq!(parse("x").unwrap_err().kind(), ErrorKind::Internal);
/// ```
pub struct Error {
    kind: ErrorKind,
    message: Cow<'static, str>,
    details: Vec<FieldError>,
    source: Option<Source>,
}

impl Error {
    /// An error of `kind` with a message meant for the caller.
    pub fn new(kind: ErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            kind,
            message: message.into(),
            details: Vec::new(),
            source: None,
        }
    }

    /// A broken business rule, answered with 400 unless [`Error::with_status`] says otherwise.
    pub fn business(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Business(400), message)
    }

    /// Invalid input, one entry per field.
    pub fn validation(details: Vec<FieldError>) -> Self {
        let mut e = Self::new(ErrorKind::Validation, "Validation error");
        e.details = details;
        e
    }

    /// Not authenticated (401).
    pub fn unauthenticated(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Unauthenticated, message)
    }

    /// Not allowed (403).
    pub fn forbidden(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Forbidden, message)
    }

    /// Not found (404).
    pub fn not_found(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    /// A dependency is down (503); `source` goes to the log only.
    pub fn unavailable(source: impl Into<Source>) -> Self {
        Self::new(ErrorKind::Unavailable, "Service unavailable").with_source(source)
    }

    /// An unexpected failure (500); the message goes to the log only.
    pub fn internal(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    /// An invalid setting: stops the boot. Name the variable in the message.
    pub fn config(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Config, message)
    }

    /// The same error answered with another status (a business error's 409, 429, ...).
    pub fn with_status(mut self, status: u16) -> Self {
        self.kind = ErrorKind::Business(status);
        self
    }

    /// Attaches the underlying cause (shown in logs, never to callers).
    pub fn with_source(mut self, source: impl Into<Source>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// The kind, which decides the status.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message meant for the caller.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Per-field problems of a validation error.
    pub fn details(&self) -> &[FieldError] {
        &self.details
    }

    /// The underlying cause, if any.
    pub fn source(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        self.source.as_deref()
    }

    /// The message and every cause, `: `-separated, for logs.
    pub fn chain(&self) -> String {
        let mut out = self.message.to_string();
        let mut next: Option<&(dyn std::error::Error + 'static)> =
            self.source.as_deref().map(|s| s as _);
        while let Some(err) = next {
            let text = err.to_string();
            if !out.ends_with(&text) {
                out.push_str(": ");
                out.push_str(&text);
            }
            next = err.source();
        }
        out
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("details", &self.details)
            .field("source", &self.source.as_ref().map(|s| s.to_string()))
            .finish()
    }
}

/// Classifies foreign errors that `?` converts (a tool registers one, e.g.
/// the db tool marks a lost connection as [`ErrorKind::Unavailable`]).
pub type ErrorClassifier = fn(&(dyn std::error::Error + 'static)) -> Option<ErrorKind>;

/// Classifiers contributed by linked tools.
#[linkme::distributed_slice]
pub static ERROR_CLASSIFIERS: [ErrorClassifier];

impl<E: std::error::Error + Send + Sync + 'static> From<E> for Error {
    fn from(err: E) -> Self {
        let kind = ERROR_CLASSIFIERS
            .iter()
            .find_map(|classify| classify(&err))
            .unwrap_or(ErrorKind::Internal);
        let message: Cow<'static, str> = match kind {
            ErrorKind::Unavailable => "Service unavailable".into(),
            _ => err.to_string().into(),
        };
        Self::new(kind, message).with_source(err)
    }
}

/// `Result` with [`Error`] as its error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
