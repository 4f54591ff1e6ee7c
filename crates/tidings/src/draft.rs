//! Schedule drafts ([`tidings_engine::draft`]) as this binary uses them: their defaults from
//! `[scheduler]`, and how their fields are written as command-line flags.

use std::time::Duration;

use jiff::SignedDuration;
pub use tidings_engine::draft::{DraftDefaults, Rules, ScheduleDraft, check, instant};

use crate::config::SchedulerConfig;

/// The defaults of a draft that leaves them out: the `[scheduler]` zone and misfire grace, and
/// the retry and timeout defaults of every job kind this build knows.
pub fn defaults(scheduler: &SchedulerConfig) -> DraftDefaults {
    DraftDefaults::new(
        scheduler.timezone.clone(),
        scheduler.misfire_grace.map(signed),
        // Kind defaults do not depend on which sources are configured.
        crate::scheduler::job_registry(&std::collections::BTreeMap::new()),
    )
}

/// How a draft field is written on the command line: `misfire_grace` is `--misfire-grace`;
/// `params.url` has no flag of its own and stays as it is.
pub fn flag(field: &str) -> String {
    match field {
        "timezone" => "--tz".to_owned(),
        "interval_seconds" => "--interval".to_owned(),
        "tags" => "--tag".to_owned(),
        "coalesce" => "--no-coalesce".to_owned(),
        "enabled" => "--disabled".to_owned(),
        "trigger" | "schedule" => field.to_owned(),
        _ if field == "params" || field.starts_with("params.") => field.to_owned(),
        _ => format!("--{}", field.replace('_', "-")),
    }
}

/// A configuration duration as the engine's signed duration (saturating).
pub(crate) fn signed(duration: Duration) -> SignedDuration {
    tidings_core::duration::signed(duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_named_as_typed() {
        assert_eq!(flag("misfire_grace"), "--misfire-grace");
        assert_eq!(flag("timezone"), "--tz");
        assert_eq!(flag("params.url"), "params.url");
        assert_eq!(flag("cron"), "--cron");
    }
}
