//! Where jobs read environment variables from: the process by default, a map in tests.
//!
//! Params may name secrets as `${NAME}` instead of holding them, so that secrets never reach the
//! database; they are looked up here when a run starts.

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;

/// A source of environment variables.
pub trait Environment: Send + Sync + 'static {
    /// The value of `name`, or `None` when it is not set.
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment (`std::env::var`). A variable whose value is not valid UTF-8 counts
/// as not set.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnvironment;

impl Environment for ProcessEnvironment {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl Environment for BTreeMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

impl<S: BuildHasher + Send + Sync + 'static> Environment for HashMap<String, String, S> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}
