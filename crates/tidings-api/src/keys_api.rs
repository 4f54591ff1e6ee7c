//! `/api/keys` (admin): list, create and revoke API keys. A key is shown once, when created;
//! the store keeps only its SHA-256.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use tidings_store::{ApiKey, ApiKeyCreateParams, ApiKeyRole};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath};
use crate::keys;
use crate::state::ApiState;

pub(crate) fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(key_list, key_create))
        .routes(routes!(key_revoke))
}

/// An API key, without its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyView {
    pub name: String,
    /// `read`, `write` or `admin`.
    pub role: String,
    /// The public start of the key (`tdg_<prefix>_…`), to tell keys apart.
    pub prefix: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

impl From<ApiKey> for KeyView {
    fn from(key: ApiKey) -> KeyView {
        KeyView {
            name: key.name,
            role: key.role.as_str().to_owned(),
            prefix: key.prefix,
            created_at: key.created_at,
            last_used_at: key.last_used_at,
            revoked_at: key.revoked_at,
        }
    }
}

/// All keys, revoked ones included, oldest first.
#[utoipa::path(
    get, path = "/api/keys", tag = "keys",
    responses(
        (status = 200, description = "The keys, without secrets", body = Vec<KeyView>),
        (status = 403, description = "Not an admin key", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
async fn key_list(State(state): State<ApiState>) -> Result<Json<Vec<KeyView>>, ApiError> {
    let keys = state.engine().store().api_key_list().await?;
    Ok(Json(keys.into_iter().map(KeyView::from).collect()))
}

/// A key to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyBody {
    /// Unique among active keys.
    #[schema(example = "ci")]
    pub name: String,
    /// `read`, `write` or `admin`.
    #[schema(example = "write")]
    pub role: String,
}

/// A created key, with its secret: shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedKey {
    /// Send it as `X-API-Key` or `Authorization: Bearer`. It cannot be shown again.
    pub key: String,
    #[serde(flatten)]
    pub view: KeyView,
}

/// Create a key; its secret is in the answer and nowhere else.
#[utoipa::path(
    post, path = "/api/keys", tag = "keys",
    request_body = KeyBody,
    responses(
        (status = 201, description = "Created; `key` is shown this once", body = CreatedKey),
        (status = 409, description = "An active key has this name", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid name or role", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
async fn key_create(
    State(state): State<ApiState>,
    ApiJson(body): ApiJson<KeyBody>,
) -> Result<(StatusCode, Json<CreatedKey>), ApiError> {
    let name = body.name.trim();
    let mut problems = Vec::new();
    if name.is_empty() || name.chars().count() > 100 {
        problems.push(tidings_engine::FieldError::new(
            "name",
            "give 1 to 100 characters",
        ));
    }
    let role = ApiKeyRole::parse(body.role.trim());
    if role.is_none() {
        problems.push(tidings_engine::FieldError::new(
            "role",
            format!("unknown role `{}`; use read, write or admin", body.role),
        ));
    }
    let (Some(role), true) = (role, problems.is_empty()) else {
        return Err(ApiError::Invalid(problems));
    };
    let new = keys::generate();
    let key = state
        .engine()
        .store()
        .api_key_create(ApiKeyCreateParams {
            name: name.to_owned(),
            role,
            prefix: new.prefix.clone(),
            hash: new.hash.clone(),
            now: state.engine().clock().now(),
        })
        .await?;
    tracing::info!(key = %key.name, role = key.role.as_str(), "API key created");
    Ok((
        StatusCode::CREATED,
        Json(CreatedKey {
            key: new.token,
            view: key.into(),
        }),
    ))
}

/// Revoke a key by name or prefix; it stops working within seconds on every instance.
#[utoipa::path(
    delete, path = "/api/keys/{key}", tag = "keys",
    params(("key" = String, Path, description = "The key's name or prefix")),
    responses(
        (status = 200, description = "The key, revoked", body = KeyView),
        (status = 404, description = "No active key by that name or prefix", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []), ("bearer" = []))
)]
async fn key_revoke(
    State(state): State<ApiState>,
    ApiPath(key): ApiPath<String>,
) -> Result<Json<KeyView>, ApiError> {
    let revoked = state
        .engine()
        .store()
        .api_key_revoke(&key, state.engine().clock().now())
        .await?;
    tracing::info!(key = %revoked.name, "API key revoked");
    Ok(Json(revoked.into()))
}
