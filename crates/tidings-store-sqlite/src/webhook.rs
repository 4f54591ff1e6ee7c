//! Webhook deliveries ([`WebhookDelivery`]) queued in the transaction that ended their runs.

use sqlx::SqliteConnection;
use tidings_core::RunTrigger;
use tidings_store::{StoreResult, WEBHOOK_KIND, WEBHOOK_RETRY, WEBHOOK_TIMEOUT, WebhookDelivery};

use crate::error::db_error;
use crate::rows::{duration_ms, ms, to_json};

/// One delivery, flattened for `json_each`.
#[derive(serde::Serialize)]
struct Row {
    parent: i64,
    /// JSON text, so that `->>` yields it as text.
    params: String,
    at: i64,
}

/// Inserts one queued `webhook` run per delivery, in one statement, on the caller's
/// transaction.
pub(crate) async fn queue(
    conn: &mut SqliteConnection,
    deliveries: &[WebhookDelivery],
) -> StoreResult<()> {
    if deliveries.is_empty() {
        return Ok(());
    }
    let rows: Vec<Row> = deliveries
        .iter()
        .map(|delivery| {
            Ok(Row {
                parent: delivery.parent.0,
                params: to_json(&delivery.params())?,
                at: ms(delivery.at),
            })
        })
        .collect::<StoreResult<_>>()?;
    sqlx::query(
        r#"INSERT INTO runs (kind, params, "trigger", state, attempt, retry, timeout_ms,
                             run_after, created_at, parent_run_id)
           SELECT ?2, value ->> '$.params', ?3, 'queued', 0, ?4, ?5,
                  value ->> '$.at', value ->> '$.at', value ->> '$.parent'
           FROM json_each(?1)"#,
    )
    .bind(to_json(&rows)?)
    .bind(WEBHOOK_KIND)
    .bind(RunTrigger::Webhook.as_str())
    .bind(to_json(&WEBHOOK_RETRY)?)
    .bind(duration_ms(WEBHOOK_TIMEOUT))
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    Ok(())
}
