//! Durations as people write them in configuration: `30s`, `5m`, `1h 30m`.
//!
//! Use on a `std::time::Duration` field with `#[serde(with = "duration")]`. Parsing is jiff's
//! "friendly" format (which also accepts ISO 8601 such as `PT30S`); printing is the friendly form,
//! so `config check` shows `5m` rather than `300s` or `PT5M`. A limit that may be switched off
//! (`misfire_grace`) is an `Option<Duration>` with `#[serde(with = "duration::or_unlimited")]`,
//! `None` written `"unlimited"`.

use std::fmt;
use std::time::Duration;

use serde::{Deserializer, Serializer, de};

pub(crate) use tidings_core::duration::{UNLIMITED, format, parse, parse_or_unlimited};

pub(crate) fn serialize<S: Serializer>(
    duration: &Duration,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format(*duration))
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Duration, D::Error> {
    deserializer.deserialize_str(HumanDuration)
}

/// Reads a string through [`parse`]; any other type is refused with the same hint.
struct HumanDuration;

impl de::Visitor<'_> for HumanDuration {
    type Value = Duration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration such as \"30s\", \"5m\" or \"1h 30m\"")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Duration, E> {
        parse(text).map_err(E::custom)
    }
}

/// `Option<Duration>` as a human duration, `None` as `"unlimited"`.
pub(crate) mod or_unlimited {
    use std::fmt;
    use std::time::Duration;

    use serde::{Deserializer, Serializer, de};

    pub(crate) fn serialize<S: Serializer>(
        limit: &Option<Duration>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match limit {
            Some(duration) => super::serialize(duration, serializer),
            None => serializer.serialize_str(super::UNLIMITED),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Duration>, D::Error> {
        deserializer.deserialize_str(DurationOrUnlimited)
    }

    struct DurationOrUnlimited;

    impl de::Visitor<'_> for DurationOrUnlimited {
        type Value = Option<Duration>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a duration such as \"30s\" or \"5m\", or \"unlimited\"")
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<Option<Duration>, E> {
            super::parse_or_unlimited(text).map_err(E::custom)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn friendly_durations_parse() {
        assert_eq!(parse("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse("0s"), Ok(Duration::ZERO));
    }

    #[test]
    fn bad_durations_say_what_is_expected() {
        assert_eq!(
            parse("30 parsecs"),
            Err("invalid duration `30 parsecs`: expected e.g. 30s, 5m, 1h 30m".to_owned())
        );
        assert_eq!(
            parse("30"),
            Err("invalid duration `30`: expected e.g. 30s, 5m, 1h 30m".to_owned())
        );
        assert_eq!(
            parse("-5s"),
            Err("invalid duration `-5s`: must not be negative".to_owned())
        );
    }

    #[test]
    fn unlimited_switches_a_limit_off() {
        assert_eq!(parse_or_unlimited("unlimited"), Ok(None));
        assert_eq!(parse_or_unlimited(" Unlimited "), Ok(None));
        assert_eq!(parse_or_unlimited("90s"), Ok(Some(Duration::from_secs(90))));
        assert_eq!(
            parse_or_unlimited("forever"),
            Err(
                "invalid duration `forever`: expected e.g. 30s, 5m, 1h 30m, or unlimited"
                    .to_owned()
            )
        );
    }

    #[test]
    fn durations_print_in_the_form_they_are_written() {
        assert_eq!(format(Duration::from_secs(30)), "30s");
        assert_eq!(format(Duration::from_secs(300)), "5m");
        assert_eq!(format(Duration::from_secs(5400)), "1h 30m");
        assert_eq!(format(Duration::ZERO), "0s");
    }
}
