//! How a reply travels: the inbox topics, the headers of a reply and the
//! codes of its errors.
//!
//! The wire format of request/reply, below everything that uses it: the
//! drivers (which keep no inbox), the topology (which hides them), the
//! workers (which send a replying handler's answer) and
//! [`EventBus::request`](crate::EventBus::request) (which waits for it).

use microcore::{ErrorKind, Result};

use crate::Envelope;

/// What every reply inbox's topic starts with.
pub(crate) const INBOX_PREFIX: &str = "_inbox.";

/// Whether `topic` is a reply inbox: plumbing for one waiting process,
/// which broker drivers need not keep and the topology does not show.
pub(crate) fn is_inbox(topic: &str) -> bool {
    topic.starts_with(INBOX_PREFIX)
}

/// The header carrying the id of the request a reply answers.
pub const IN_REPLY_TO: &str = "in_reply_to";
/// The header carrying a replying handler's error message.
pub const REPLY_ERROR: &str = "error";
/// The header carrying that error's HTTP status.
pub const REPLY_ERROR_STATUS: &str = "error_status";

/// The reply header's code of an error kind, and back ([`kind_of`]): the
/// numbers HTTP uses, so a reply error reads the same on either transport.
fn code_of(kind: ErrorKind) -> u16 {
    match kind {
        ErrorKind::Validation => 422,
        ErrorKind::Business(code) => code,
        ErrorKind::Unauthenticated => 401,
        ErrorKind::Forbidden => 403,
        ErrorKind::NotFound => 404,
        ErrorKind::Unavailable => 503,
        ErrorKind::Internal | ErrorKind::Config => 500,
    }
}

pub(crate) fn kind_of(status: u16) -> ErrorKind {
    match status {
        422 => ErrorKind::Validation,
        401 => ErrorKind::Unauthenticated,
        403 => ErrorKind::Forbidden,
        404 => ErrorKind::NotFound,
        503 => ErrorKind::Unavailable,
        500 => ErrorKind::Internal,
        other => ErrorKind::Business(other),
    }
}

/// The answer to `request` as an envelope for its inbox (`None` if the
/// request asked for no reply).
pub(crate) fn reply_envelope(
    request: &Envelope,
    answer: Result<serde_json::Value>,
    owner: &str,
) -> Option<Envelope> {
    let to = request.reply_to.as_ref()?;
    let mut reply = match answer {
        Ok(value) => Envelope::new(to.clone(), value, owner),
        Err(e) => {
            let mut reply = Envelope::new(to.clone(), serde_json::Value::Null, owner);
            reply
                .headers
                .insert(REPLY_ERROR.into(), e.message().to_string());
            reply
                .headers
                .insert(REPLY_ERROR_STATUS.into(), code_of(e.kind()).to_string());
            reply
        }
    };
    reply
        .headers
        .insert(IN_REPLY_TO.into(), request.id.to_string());
    reply.parent_id = Some(request.id.to_string());
    reply.correlation_id = request.correlation_id.clone();
    Some(reply)
}
