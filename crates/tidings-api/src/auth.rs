//! API keys on every `/api/` route: `X-API-Key: KEY` or `Authorization: Bearer KEY`.
//!
//! A key's role decides what it may do: `read` the GET routes, `write` also the changes,
//! `admin` also the keys. Stored keys are looked up by their public prefix and their SHA-256
//! compared in constant time; what was found is cached for a few seconds so that a request does
//! not cost a database read (a revoked key stops working within [`CACHE_FOR`] on every instance).
//! `last_used_at` is written at most once a minute per key.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use tidings_core::Clock;
use tidings_store::{ApiKey, ApiKeyRole, Store};

use crate::error::ApiError;
use crate::keys;
use crate::state::ApiState;

/// How long a looked-up key is trusted without asking the store again.
const CACHE_FOR: Duration = Duration::from_secs(5);

/// How often a key's `last_used_at` is written, at most.
const TOUCH_EVERY: Duration = Duration::from_secs(60);

/// Who is calling: the key's name and role. Handlers may take it as an extension.
#[derive(Clone, Debug)]
pub struct Caller {
    pub name: String,
    pub role: ApiKeyRole,
}

struct Cached {
    key: ApiKey,
    hash: Vec<u8>,
    checked: Instant,
    touched: Option<Instant>,
}

/// Stored keys by prefix, as recently looked up.
pub(crate) struct KeyCache {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    bootstrap: Option<String>,
    cached: Mutex<HashMap<String, Cached>>,
}

impl KeyCache {
    pub(crate) fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        bootstrap: Option<String>,
    ) -> KeyCache {
        KeyCache {
            store,
            clock,
            bootstrap: bootstrap.filter(|key| !key.is_empty()),
            cached: Mutex::new(HashMap::new()),
        }
    }

    /// The caller a presented key stands for.
    async fn authenticate(&self, presented: &str) -> Result<Caller, ApiError> {
        if let Some(bootstrap) = &self.bootstrap
            && keys::env_key_matches(bootstrap, presented)
        {
            return Ok(Caller {
                name: "TIDINGS_API_KEY".to_owned(),
                role: ApiKeyRole::Admin,
            });
        }
        let invalid = || {
            ApiError::Unauthorized(
                "the API key is not valid: it was mistyped or revoked; create one with `tidings keys create`"
                    .to_owned(),
            )
        };
        let (prefix, hash) = keys::parse(presented).ok_or_else(invalid)?;
        let now = Instant::now();
        let fresh = {
            let cached = self.cached.lock().unwrap_or_else(PoisonError::into_inner);
            cached
                .get(prefix)
                .filter(|entry| now.duration_since(entry.checked) < CACHE_FOR)
                .map(|entry| (entry.key.clone(), entry.hash.clone()))
        };
        let (key, stored) = match fresh {
            Some(found) => found,
            None => {
                let Some((key, stored)) = self.store.api_key_lookup(prefix).await? else {
                    self.forget(prefix);
                    return Err(invalid());
                };
                let mut cached = self.cached.lock().unwrap_or_else(PoisonError::into_inner);
                let touched = cached.get(prefix).and_then(|entry| entry.touched);
                cached.insert(
                    prefix.to_owned(),
                    Cached {
                        key: key.clone(),
                        hash: stored.clone(),
                        checked: now,
                        touched,
                    },
                );
                (key, stored)
            }
        };
        if !keys::hash_matches(&stored, &hash) {
            return Err(invalid());
        }
        self.touch(prefix, &key, now);
        Ok(Caller {
            name: key.name,
            role: key.role,
        })
    }

    fn forget(&self, prefix: &str) {
        self.cached
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(prefix);
    }

    /// Records the key's use in the background, at most once per [`TOUCH_EVERY`].
    fn touch(&self, prefix: &str, key: &ApiKey, now: Instant) {
        {
            let mut cached = self.cached.lock().unwrap_or_else(PoisonError::into_inner);
            let Some(entry) = cached.get_mut(prefix) else {
                return;
            };
            if entry
                .touched
                .is_some_and(|at| now.duration_since(at) < TOUCH_EVERY)
            {
                return;
            }
            entry.touched = Some(now);
        }
        let store = self.store.clone();
        let (id, name, at) = (key.id, key.name.clone(), self.clock.now());
        tokio::spawn(async move {
            if let Err(error) = store.api_key_touch(id, at).await {
                tracing::warn!(key = %name, %error, "cannot record the API key's last use");
            }
        });
    }
}

/// The role a request needs: GET routes `read`, changes `write`, keys `admin`.
fn required_role(method: &Method, path: &str) -> ApiKeyRole {
    if path == "/api/keys" || path.starts_with("/api/keys/") {
        ApiKeyRole::Admin
    } else if matches!(*method, Method::GET | Method::HEAD) || path == "/api/cron/preview" {
        // Previewing a cron expression changes nothing, though it is a POST.
        ApiKeyRole::Read
    } else {
        ApiKeyRole::Write
    }
}

/// The key in `X-API-Key`, else in `Authorization: Bearer`.
fn presented_key(headers: &HeaderMap) -> Option<&str> {
    if let Some(value) = headers.get("x-api-key") {
        return value.to_str().ok().map(str::trim);
    }
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// The middleware guarding `/api/`: 401 without a valid key, 403 when its role is too low.
pub(crate) async fn require_key(
    State(state): State<ApiState>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let needed = required_role(request.method(), request.uri().path());
    let presented = presented_key(request.headers()).filter(|key| !key.is_empty());
    let Some(presented) = presented else {
        return Err(ApiError::Unauthorized(
            "send an API key in the X-API-Key header or as Authorization: Bearer".to_owned(),
        ));
    };
    let caller = state.inner.keys.authenticate(presented).await?;
    if caller.role < needed {
        return Err(ApiError::Forbidden(format!(
            "{} {} needs a key with role `{}`; key `{}` has role `{}`",
            request.method(),
            request.uri().path(),
            needed.as_str(),
            caller.name,
            caller.role.as_str()
        )));
    }
    request.extensions_mut().insert(caller);
    Ok(next.run(request).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_follow_method_and_path() {
        assert_eq!(
            required_role(&Method::GET, "/api/schedules"),
            ApiKeyRole::Read
        );
        assert_eq!(
            required_role(&Method::POST, "/api/schedules"),
            ApiKeyRole::Write
        );
        assert_eq!(
            required_role(&Method::POST, "/api/cron/preview"),
            ApiKeyRole::Read
        );
        assert_eq!(required_role(&Method::GET, "/api/keys"), ApiKeyRole::Admin);
        assert_eq!(
            required_role(&Method::DELETE, "/api/keys/ci"),
            ApiKeyRole::Admin
        );
    }

    #[test]
    fn keys_come_from_either_header() {
        let mut headers = HeaderMap::new();
        headers.insert("authorization", "Bearer tdg_abc".parse().unwrap());
        assert_eq!(presented_key(&headers), Some("tdg_abc"));
        headers.insert("x-api-key", "tdg_xyz".parse().unwrap());
        assert_eq!(presented_key(&headers), Some("tdg_xyz"));
        let mut basic = HeaderMap::new();
        basic.insert("authorization", "Basic dXNlcg==".parse().unwrap());
        assert_eq!(presented_key(&basic), None);
    }
}
