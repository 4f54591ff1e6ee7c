//! The pure heart of tidings: the cron dialect of `CRON.md`, its DST rules, the trigger kinds
//! (`cron`, `interval`, `once`) and the clock every component reads time from.
//!
//! Nothing here does I/O or depends on an async runtime or a database: next-fire maths is a
//! function of its inputs, `now` included, so it can be tested exhaustively and reused by the
//! engine, the API and the command line alike.

pub mod clock;
pub mod cron;
pub mod duration;
pub mod policy;
pub mod run;
pub mod trigger;
pub mod zone;

pub use clock::{Clock, ManualClock, SystemClock};
pub use cron::{CronError, CronExpr};
pub use policy::{FirePlan, FirePolicy, Occurrences, RetryPolicy, plan_fire};
pub use run::{RunState, RunTrigger};
pub use trigger::{CronTrigger, IntervalTrigger, OnceTrigger, Trigger, TriggerError};
pub use zone::{Zone, ZoneError};
