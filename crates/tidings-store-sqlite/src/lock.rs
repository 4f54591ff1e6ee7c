//! The one-server-per-file lock.
//!
//! SQLite has a single writer and no `SKIP LOCKED`, so tidings' exactly-once firing across
//! instances only holds on PostgreSQL. Two `tidings serve` processes on one SQLite file would
//! each run the scheduler; instead the second is refused at start. The lock is an OS file lock
//! (`flock` on Unix, `LockFileEx` on Windows) on `<database>.lock`: the OS drops it when the
//! process exits, however it exits, so a crash never leaves a stale lock behind. The file holds
//! the holder's pid only to make the refusal message useful.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};

use tidings_store::{StoreError, StoreResult};

/// An exclusive lock held until dropped.
#[derive(Debug)]
pub(crate) struct InstanceLock {
    _file: File,
}

impl InstanceLock {
    /// Takes the lock next to `database` without waiting; [`StoreError::Locked`] if another
    /// store (in this process or another) holds it.
    pub(crate) fn acquire(database: &Path) -> StoreResult<InstanceLock> {
        let path = lock_path(database);
        let unavailable = |e: std::io::Error| {
            StoreError::Unavailable(format!("cannot lock {}: {e}", path.display()))
        };
        // Not truncated on open: the pid in it belongs to the holder until we hold the lock.
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(unavailable)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let holder = std::fs::read_to_string(&path)
                    .ok()
                    .and_then(|text| text.trim().parse::<u32>().ok())
                    .map(|pid| format!(" (pid {pid})"))
                    .unwrap_or_default();
                return Err(StoreError::Locked(format!(
                    "another tidings serve is already using {}{holder}; SQLite allows one \
                     instance — run several instances on PostgreSQL",
                    database.display()
                )));
            }
            Err(TryLockError::Error(e)) => return Err(unavailable(e)),
        }
        file.set_len(0).map_err(unavailable)?;
        writeln!(file, "{}", std::process::id()).map_err(unavailable)?;
        Ok(InstanceLock { _file: file })
    }
}

/// `<database>.lock`: `data/tidings.db` → `data/tidings.db.lock`.
fn lock_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_file_names_its_holder_and_is_free_again_once_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("tidings.db");
        let first = InstanceLock::acquire(&database).unwrap();
        let pid = std::fs::read_to_string(dir.path().join("tidings.db.lock")).unwrap();
        assert_eq!(pid.trim(), std::process::id().to_string());

        let refused = InstanceLock::acquire(&database).unwrap_err();
        assert!(matches!(refused, StoreError::Locked(_)), "{refused:?}");

        drop(first);
        InstanceLock::acquire(&database).unwrap();
    }
}
