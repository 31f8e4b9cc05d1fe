//! The request id on every JSON line logged while a request is served:
//! `{"request_id":"…","timestamp":…}`, read from `microcore_trace`'s cause
//! ([`microcore_trace::cause::request_id`]) that the http tool sets around each
//! request. No span per request: a line outside a request costs one
//! task-local lookup, a request costs nothing it did not already pay.

use std::fmt;

use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// Wraps the JSON event format; lines outside a request are unchanged.
#[derive(Debug)]
pub(crate) struct WithRequestId<F>(pub(crate) F);

impl<S, N, F> FormatEvent<S, N> for WithRequestId<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let Some(id) = microcore_trace::cause::request_id() else {
            return self.0.format_event(ctx, writer, event);
        };
        writer.write_str("{\"request_id\":")?;
        write_json_string(&mut writer, &id)?;
        writer.write_char(',')?;
        // The JSON format opens its object itself: drop that brace, the
        // line's object is already open.
        let mut rest = AfterBrace {
            inner: &mut writer,
            skipped: false,
        };
        self.0.format_event(ctx, Writer::new(&mut rest), event)
    }
}

/// Forwards everything but the first `{`.
struct AfterBrace<'a, W> {
    inner: &'a mut W,
    skipped: bool,
}

impl<W: fmt::Write> fmt::Write for AfterBrace<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.skipped {
            return self.inner.write_str(s);
        }
        match s.strip_prefix('{') {
            Some(rest) => {
                self.skipped = true;
                self.inner.write_str(rest)
            }
            // Leading whitespace before the object, if a format wrote any.
            None if s.trim_start().is_empty() => Ok(()),
            None => {
                self.skipped = true;
                self.inner.write_str(s)
            }
        }
    }
}

/// `value` as a JSON string: a client may send its own `X-Request-ID`,
/// so quotes and backslashes are escaped.
fn write_json_string(out: &mut impl fmt::Write, value: &str) -> fmt::Result {
    out.write_char('"')?;
    for c in value.chars() {
        match c {
            '"' => out.write_str("\\\"")?,
            '\\' => out.write_str("\\\\")?,
            c if u32::from(c) < 0x20 => write!(out, "\\u{:04x}", u32::from(c))?,
            c => out.write_char(c)?,
        }
    }
    out.write_char('"')
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::*;

    #[test]
    fn escapes_what_a_client_may_put_in_its_id() {
        let mut out = String::new();
        write_json_string(&mut out, "a\"b\\c\td").unwrap();
        assert_eq!(out, r#""a\"b\\c\u0009d""#);
    }

    #[test]
    fn drops_only_the_opening_brace() {
        let mut line = String::from("{\"request_id\":\"r\",");
        let mut rest = AfterBrace {
            inner: &mut line,
            skipped: false,
        };
        rest.write_str("{\"level\":\"INFO\"").unwrap();
        rest.write_str("}").unwrap();
        assert_eq!(line, r#"{"request_id":"r","level":"INFO"}"#);
    }
}
