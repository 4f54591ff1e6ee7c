//! Webhook deliveries ([`WebhookDelivery`]) queued in the transaction that ended their runs.

use sqlx::types::Json;
use sqlx::{Postgres, Transaction};
use tidings_core::RunTrigger;
use tidings_store::{WEBHOOK_KIND, WEBHOOK_RETRY, WEBHOOK_TIMEOUT, WebhookDelivery};

use crate::error::Result;
use crate::rows::{duration_ms, ms};

/// Inserts one queued `webhook` run per delivery, in one statement, on the caller's
/// transaction.
pub(crate) async fn queue(
    tx: &mut Transaction<'static, Postgres>,
    deliveries: &[WebhookDelivery],
) -> Result<()> {
    if deliveries.is_empty() {
        return Ok(());
    }
    let parents: Vec<i64> = deliveries.iter().map(|d| d.parent.0).collect();
    let params: Vec<serde_json::Value> = deliveries.iter().map(WebhookDelivery::params).collect();
    let at: Vec<i64> = deliveries.iter().map(|d| ms(d.at)).collect();
    sqlx::query(
        "INSERT INTO runs (kind, params, trigger, state, attempt, retry, timeout_ms, run_after,
                           created_at, parent_run_id)
         SELECT $4, u.params, $5, 'queued', 0, $6, $7, u.at, u.at, u.parent
         FROM UNNEST($1::bigint[], $2::jsonb[], $3::bigint[]) WITH ORDINALITY
              AS u(parent, params, at, n)
         ORDER BY u.n",
    )
    .bind(&parents)
    .bind(&params)
    .bind(&at)
    .bind(WEBHOOK_KIND)
    .bind(RunTrigger::Webhook.as_str())
    .bind(Json(&WEBHOOK_RETRY))
    .bind(duration_ms(WEBHOOK_TIMEOUT))
    .execute(&mut **tx)
    .await?;
    Ok(())
}
