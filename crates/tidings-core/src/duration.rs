//! Durations as people write them: `30s`, `5m`, `1h 30m`, and `unlimited` where a limit may be
//! switched off. Parsing is jiff's "friendly" format (which also accepts ISO 8601 such as
//! `PT30S`); printing is the friendly form, so `5m` is shown rather than `300s` or `PT5M`.

use std::time::Duration;

use jiff::SignedDuration;

/// Parses a non-negative human duration.
pub fn parse(text: &str) -> Result<Duration, String> {
    let signed: SignedDuration = text
        .trim()
        .parse()
        .map_err(|_| format!("invalid duration `{text}`: expected e.g. 30s, 5m, 1h 30m"))?;
    Duration::try_from(signed)
        .map_err(|_| format!("invalid duration `{text}`: must not be negative"))
}

/// The word that switches a limit off.
pub const UNLIMITED: &str = "unlimited";

/// Parses a human duration or `unlimited` (`None`).
pub fn parse_or_unlimited(text: &str) -> Result<Option<Duration>, String> {
    if text.trim().eq_ignore_ascii_case(UNLIMITED) {
        return Ok(None);
    }
    parse(text).map(Some).map_err(|_| {
        format!("invalid duration `{text}`: expected e.g. 30s, 5m, 1h 30m, or {UNLIMITED}")
    })
}

/// Prints a duration the way [`parse`] reads it: `30s`, `5m`, `1h 30m`, `250ms`.
pub fn format(duration: Duration) -> String {
    match SignedDuration::try_from(duration) {
        Ok(signed) => format!("{signed:#}"),
        // Only durations of more than 292 billion years land here.
        Err(_) => format!("{}s", duration.as_secs()),
    }
}

/// A duration as the engine's signed duration (saturating: only absurd values of hundreds of
/// billions of years do not fit).
pub fn signed(duration: Duration) -> SignedDuration {
    SignedDuration::try_from(duration).unwrap_or(SignedDuration::MAX)
}
