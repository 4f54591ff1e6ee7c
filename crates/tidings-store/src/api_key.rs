//! API keys as stored: a name, a role, and what a presented key is checked against. The key
//! itself is shown once when it is made and never stored: only its SHA-256, and its prefix, the
//! public part a presented key is found by.

use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// What a key may do. Roles are ordered: each may do what the ones before it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApiKeyRole {
    /// Reads schedules, runs and status.
    Read,
    /// Also creates, changes and runs schedules.
    Write,
    /// Also manages API keys.
    Admin,
}

impl ApiKeyRole {
    pub const ALL: [ApiKeyRole; 3] = [ApiKeyRole::Read, ApiKeyRole::Write, ApiKeyRole::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            ApiKeyRole::Read => "read",
            ApiKeyRole::Write => "write",
            ApiKeyRole::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<ApiKeyRole> {
        ApiKeyRole::ALL.into_iter().find(|role| role.as_str() == s)
    }
}

impl fmt::Display for ApiKeyRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An API key's database id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ApiKeyId(pub i64);

impl fmt::Display for ApiKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A stored API key, without its hash: what lists show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiKey {
    pub id: ApiKeyId,
    /// Unique among active keys; a revoked key's name may be given to a new key.
    pub name: String,
    pub role: ApiKeyRole,
    /// The public, non-secret part of the key, unique among all keys: how a presented key is
    /// found, and how people tell keys apart in lists.
    pub prefix: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    /// Set once the key is revoked; a revoked key is never accepted again.
    pub revoked_at: Option<Timestamp>,
}

impl ApiKey {
    /// Not revoked.
    pub fn is_active(&self) -> bool {
        self.revoked_at.is_none()
    }
}

/// `api_key_create`.
#[derive(Debug, Clone)]
pub struct ApiKeyCreateParams {
    pub name: String,
    pub role: ApiKeyRole,
    pub prefix: String,
    /// The SHA-256 of the whole key.
    pub hash: Vec<u8>,
    pub now: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_and_named() {
        assert!(ApiKeyRole::Read < ApiKeyRole::Write);
        assert!(ApiKeyRole::Write < ApiKeyRole::Admin);
        for role in ApiKeyRole::ALL {
            assert_eq!(ApiKeyRole::parse(role.as_str()), Some(role));
            assert_eq!(serde_json::to_string(&role).unwrap(), format!("\"{role}\""));
        }
        assert_eq!(ApiKeyRole::parse("Admin"), None);
        assert_eq!(ApiKeyRole::parse("owner"), None);
    }
}
