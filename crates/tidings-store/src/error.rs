//! Store errors, classified so that callers can act on them without knowing the database.

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The schedule or run does not exist.
    #[error("{entity} {key} not found")]
    NotFound { entity: &'static str, key: String },
    /// A uniqueness rule was hit: a schedule name already taken.
    #[error("{0}")]
    Conflict(String),
    /// The operation does not apply in the entity's current state (cancelling a finished run).
    #[error("{0}")]
    InvalidState(String),
    /// The database cannot be reached or refused the connection; retrying later may work.
    #[error("the store is unavailable: {0}")]
    Unavailable(String),
    /// Another process holds the store exclusively (a second `tidings serve` on one SQLite file).
    #[error("{0}")]
    Locked(String),
    /// Anything else: a bug, a corrupt row, a failed migration.
    #[error("store error: {0}")]
    Internal(String),
}

impl StoreError {
    pub fn not_found(entity: &'static str, key: &impl ToString) -> StoreError {
        StoreError::NotFound {
            entity,
            key: key.to_string(),
        }
    }

    /// True for errors worth retrying after a pause (the database is down or restarting).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}
