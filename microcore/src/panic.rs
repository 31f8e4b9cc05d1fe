//! What a caught panic said, for the places that isolate a panic (a tool's
//! start, an event handler, a job) and report it as an error.

use std::any::Any;

/// The message of a panic payload (`panic!`'s text), or a placeholder for
/// a payload that is not a string.
///
/// ```
/// let caught = std::panic::catch_unwind(|| panic!("boom {}", 42)).unwrap_err();
/// assert_eq!(microcore::panic::message(&*caught), "boom 42");
/// let caught = std::panic::catch_unwind(|| std::panic::panic_any(7)).unwrap_err();
/// assert_eq!(microcore::panic::message(&*caught), "a non-string panic payload");
/// ```
pub fn message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-string panic payload".into())
}
