//! The one error type of plugins and tools.
//!
//! A handler says *what* went wrong (an [`ErrorKind`]); the transport
//! decides how it looks: the http tool maps each kind to a status
//! (`microcore_http::status_of`), the event bus to a reply header. The
//! kernel knows no HTTP.

use std::borrow::Cow;
use std::fmt;

/// What went wrong, as far as a caller needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input broke a rule; see [`Error::details`].
    Validation,
    /// A business rule was broken, with the code the plugin chose (400
    /// unless [`Error::with_status`] says otherwise); transports show it as is.
    Business(u16),
    /// No credentials, or bad ones.
    Unauthenticated,
    /// Credentials, but not allowed.
    Forbidden,
    /// The thing asked for does not exist.
    NotFound,
    /// A dependency (database, bus) cannot be reached.
    Unavailable,
    /// Anything else: a bug or an unexpected failure; details in the log only.
    Internal,
    /// The configuration is invalid: stops the boot wherever it is raised.
    Config,
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
/// assert_eq!(e.kind(), ErrorKind::NotFound);
/// assert_eq!(e.to_string(), "User not found");
///
/// // Any std error converts with `?` into an internal error.
/// fn parse(s: &str) -> Result<u32, Error> { Ok(s.parse::<u32>()?) }
/// assert_eq!(parse("x").unwrap_err().kind(), ErrorKind::Internal);
/// ```
#[derive(Debug)]
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

    /// A broken business rule, code 400 unless [`Error::with_status`] says otherwise.
    pub fn business(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Business(400), message)
    }

    /// Invalid input, one entry per field.
    pub fn validation(details: Vec<FieldError>) -> Self {
        let mut e = Self::new(ErrorKind::Validation, "Validation error");
        e.details = details;
        e
    }

    /// Not authenticated.
    pub fn unauthenticated(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Unauthenticated, message)
    }

    /// Not allowed.
    pub fn forbidden(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Forbidden, message)
    }

    /// Not found.
    pub fn not_found(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    /// A dependency is down; `source` goes to the log only.
    pub fn unavailable(source: impl Into<Source>) -> Self {
        Self::new(ErrorKind::Unavailable, "Service unavailable").with_source(source)
    }

    /// An unexpected failure; the message goes to the log only.
    pub fn internal(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    /// An invalid setting: stops the boot. Name the variable in the message.
    pub fn config(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Config, message)
    }

    /// The same error as a business error with another code (409, 429, ...).
    pub fn with_status(mut self, status: u16) -> Self {
        self.kind = ErrorKind::Business(status);
        self
    }

    /// Attaches the underlying cause (shown in logs, never to callers).
    pub fn with_source(mut self, source: impl Into<Source>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// The kind, which decides how a transport answers it.
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
