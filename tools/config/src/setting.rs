//! Types a configuration variable can be read as.

use std::time::Duration;

/// A type [`Config::get`](crate::Config::get) can parse, and how to say what
/// it expects.
pub trait Setting: Sized {
    /// Completes "`NAME='x'` is invalid: expected …".
    const EXPECTED: &'static str;
    /// Parses a trimmed value.
    fn parse(raw: &str) -> Option<Self>;
}

macro_rules! integer_setting {
    ($($ty:ty => $max:literal),*) => {$(
        impl Setting for $ty {
            const EXPECTED: &'static str = concat!("an integer from 0 to ", $max);
            fn parse(raw: &str) -> Option<Self> {
                raw.parse().ok()
            }
        }
    )*};
}
integer_setting!(u16 => "65535", u32 => "4294967295", u64 => "18446744073709551615", usize => "18446744073709551615");

impl Setting for bool {
    const EXPECTED: &'static str = "true or false";
    fn parse(raw: &str) -> Option<Self> {
        match raw.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Some(true),
            "false" | "0" | "no" | "off" => Some(false),
            _ => None,
        }
    }
}

impl Setting for String {
    const EXPECTED: &'static str = "a string";
    fn parse(raw: &str) -> Option<Self> {
        Some(raw.to_string())
    }
}

/// Seconds, as a whole or decimal number (`30`, `0.5`).
impl Setting for Duration {
    const EXPECTED: &'static str = "a number of seconds, such as 30 or 0.5";
    fn parse(raw: &str) -> Option<Self> {
        raw.parse::<f64>()
            .ok()
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(Duration::from_secs_f64)
    }
}

/// A size in bytes: `1048576`, `512KiB`, `1MiB`, `2MB`, `1GiB`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSize(pub usize);

impl Setting for ByteSize {
    const EXPECTED: &'static str = "a size such as 1048576, 512KiB, 1MiB or 2MB";
    fn parse(raw: &str) -> Option<Self> {
        let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
        let (number, unit) = raw.split_at(split);
        let number: usize = number.parse().ok()?;
        let factor: usize = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "kib" | "k" => 1 << 10,
            "kb" => 1000,
            "mib" | "m" => 1 << 20,
            "mb" => 1_000_000,
            "gib" | "g" => 1 << 30,
            "gb" => 1_000_000_000,
            _ => return None,
        };
        number.checked_mul(factor).map(ByteSize)
    }
}
