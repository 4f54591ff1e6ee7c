//! IANA time zones, parsed once and carried with their name.

use std::fmt;
use std::str::FromStr;

use jiff::tz::TimeZone;

/// An IANA time zone such as `America/New_York`, or `UTC`.
#[derive(Clone)]
pub struct Zone {
    name: String,
    tz: TimeZone,
}

/// A zone name that is not in the time zone database.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown time zone `{name}`: expected an IANA name such as `UTC`, `Europe/Berlin` or `America/New_York`"
)]
pub struct ZoneError {
    name: String,
}

impl Zone {
    /// Looks `name` up in the time zone database (the system's, or the one bundled in the binary).
    ///
    /// Names are matched case-insensitively and kept in their canonical spelling.
    pub fn parse(name: &str) -> Result<Zone, ZoneError> {
        let trimmed = name.trim();
        let error = || ZoneError {
            name: name.to_owned(),
        };
        if trimmed.is_empty() {
            return Err(error());
        }
        let tz = TimeZone::get(trimmed).map_err(|_| error())?;
        let name = tz.iana_name().unwrap_or(trimmed).to_owned();
        Ok(Zone { name, tz })
    }

    /// Coordinated Universal Time.
    pub fn utc() -> Zone {
        Zone {
            name: "UTC".to_owned(),
            tz: TimeZone::UTC,
        }
    }

    /// The zone's IANA name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The zone's rules.
    pub fn tz(&self) -> &TimeZone {
        &self.tz
    }
}

impl fmt::Debug for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Zone({})", self.name)
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl PartialEq for Zone {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Zone {}

impl FromStr for Zone {
    type Err = ZoneError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Zone::parse(s)
    }
}

impl serde::Serialize for Zone {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.name)
    }
}

impl<'de> serde::Deserialize<'de> for Zone {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Zone::parse(&name).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_zones_parse_and_keep_their_name() {
        assert_eq!(
            Zone::parse("America/New_York").unwrap().name(),
            "America/New_York"
        );
        assert_eq!(Zone::parse("UTC").unwrap().name(), "UTC");
        assert_eq!(
            Zone::parse(" Pacific/Chatham ").unwrap().name(),
            "Pacific/Chatham"
        );
    }

    #[test]
    fn unknown_zone_error_names_it_and_shows_examples() {
        let err = Zone::parse("America/Gotham").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown time zone `America/Gotham`: expected an IANA name such as `UTC`, `Europe/Berlin` or `America/New_York`"
        );
        assert!(Zone::parse("").is_err());
    }
}
