//! The keys tidings knows, the search for keys it does not (typos, leftovers from other tools),
//! and the closest known key to suggest for each.

use std::collections::BTreeMap;

use figment::value::{Dict, Value};

use super::Config;
use super::layer::dotted;

/// The shape of the configuration's keys.
#[derive(Debug, PartialEq)]
pub(crate) enum KeyTree {
    /// A setting. Whatever is below it is its value, checked when its section is read.
    Setting,
    /// A table with fixed key names.
    Table(BTreeMap<String, KeyTree>),
    // Sections keyed by names the user chooses (`[sources.NAME]`) cannot be learned from the
    // defaults, which have no names in them. For those, add a variant such as
    // `Named(Box<KeyTree>)` (any key, each value shaped like the box), graft it onto the tree in
    // `KeyTree::of_config`, and give `collect_unknown` and `collect_paths` an arm for it.
}

impl KeyTree {
    /// The keys of [`Config`], learned from its serialized defaults so that a new field is known
    /// as soon as it exists.
    pub(crate) fn of_config() -> KeyTree {
        let defaults = Value::serialize(Config::default())
            .expect("the default configuration serializes: every field type is a plain value");
        let mut tree = KeyTree::of(&defaults);
        // `[[schedules]]` is absent from the defaults (there are none) and its entries are
        // checked key by key when they are read (`declared.rs`): here it is one setting.
        if let KeyTree::Table(keys) = &mut tree {
            keys.insert("schedules".to_owned(), KeyTree::Setting);
            // `[sources.NAME]`: names are the user's; each source's keys are checked when it is
            // read (unknown keys are refused by its kind's settings).
            keys.insert("sources".to_owned(), KeyTree::Setting);
        }
        tree
    }

    /// The keys of `value`: its tables, and settings for everything else.
    fn of(value: &Value) -> KeyTree {
        match value.as_dict() {
            Some(dict) => KeyTree::Table(
                dict.iter()
                    .map(|(key, v)| (key.clone(), KeyTree::of(v)))
                    .collect(),
            ),
            None => KeyTree::Setting,
        }
    }

    /// The paths in `values` that are not keys of this tree, in order. The keys under an unknown
    /// table are not listed: the table is the mistake.
    pub(crate) fn unknown_keys(&self, values: &Dict) -> Vec<Vec<String>> {
        let mut unknown = Vec::new();
        self.collect_unknown(values, &mut Vec::new(), &mut unknown);
        unknown
    }

    fn collect_unknown(&self, values: &Dict, at: &mut Vec<String>, unknown: &mut Vec<Vec<String>>) {
        let KeyTree::Table(known) = self else {
            return;
        };
        for (key, value) in values {
            at.push(key.clone());
            match (known.get(key), value.as_dict()) {
                (None, _) => unknown.push(at.clone()),
                (Some(child), Some(dict)) => child.collect_unknown(dict, at, unknown),
                // A setting, or a table given a plain value: reading the section reports the type.
                (Some(_), None) => {}
            }
            at.pop();
        }
    }

    /// The known key a user most likely meant by `unknown`, if one is close enough: a key with the
    /// same name in another table (`listen` → `server.listen`), or one a typo or two away
    /// (`server.lisen`, `server_listen` → `server.listen`).
    pub(crate) fn suggest(&self, unknown: &[String]) -> Option<Vec<String>> {
        let written = dotted(unknown);
        let name = unknown.last()?;
        let mut paths = Vec::new();
        self.collect_paths(&mut Vec::new(), &mut paths);
        let distance = |path: &Vec<String>| strsim::damerau_levenshtein(&written, &dotted(path));
        let same_name = paths
            .iter()
            .filter(|path| path.last() == Some(name))
            .min_by_key(|path| distance(path));
        if let Some(path) = same_name {
            return Some(path.clone());
        }
        let tolerance = (written.chars().count() / 4).max(2);
        paths
            .into_iter()
            .map(|path| (distance(&path), path))
            .filter(|(d, _)| *d <= tolerance)
            .min_by_key(|(d, _)| *d)
            .map(|(_, path)| path)
    }

    fn collect_paths(&self, at: &mut Vec<String>, paths: &mut Vec<Vec<String>>) {
        let KeyTree::Table(known) = self else {
            return;
        };
        for (key, child) in known {
            at.push(key.clone());
            paths.push(at.clone());
            child.collect_paths(at, paths);
            at.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(dotted: &str) -> Vec<String> {
        dotted.split('.').map(str::to_owned).collect()
    }

    fn suggestion(tree: &KeyTree, unknown: &str) -> Option<String> {
        tree.suggest(&path(unknown)).map(|p| dotted(&p))
    }

    #[test]
    fn the_tree_knows_every_documented_key() {
        let tree = KeyTree::of_config();
        let mut paths = Vec::new();
        tree.collect_paths(&mut Vec::new(), &mut paths);
        let paths: Vec<String> = paths.iter().map(|p| dotted(p)).collect();
        assert_eq!(
            paths,
            [
                "cache",
                "cache.default_source",
                "cache.stale_after",
                "database",
                "database.url",
                "log",
                "log.format",
                "log.level",
                "runs",
                "runs.retention",
                "scheduler",
                "scheduler.concurrency",
                "scheduler.lease",
                "scheduler.min_interval",
                "scheduler.misfire_grace",
                "scheduler.timezone",
                "schedules",
                "server",
                "server.body_limit",
                "server.cors_origins",
                "server.listen",
                "server.public_metrics",
                "server.request_timeout",
                "server.shutdown_grace",
                "sources",
                "stats",
                "stats.refresh_after_sync",
                "stats.refresh_every",
                "stats.timezone",
                "webhooks",
                "webhooks.secret",
            ]
        );
    }

    #[test]
    fn typos_and_misplaced_keys_get_the_key_that_was_meant() {
        let tree = KeyTree::of_config();
        assert_eq!(
            suggestion(&tree, "server.lisen").as_deref(),
            Some("server.listen")
        );
        assert_eq!(
            suggestion(&tree, "server_listen").as_deref(),
            Some("server.listen")
        );
        assert_eq!(suggestion(&tree, "sever").as_deref(), Some("server"));
        assert_eq!(
            suggestion(&tree, "listen").as_deref(),
            Some("server.listen")
        );
        assert_eq!(
            suggestion(&tree, "server.level").as_deref(),
            Some("log.level")
        );
        assert_eq!(
            suggestion(&tree, "scheduler.concurency").as_deref(),
            Some("scheduler.concurrency")
        );
    }

    #[test]
    fn unrelated_keys_get_no_suggestion() {
        let tree = KeyTree::of_config();
        assert_eq!(suggestion(&tree, "server.foo"), None);
        assert_eq!(suggestion(&tree, "plugins"), None);
    }
}
