//! The change feed: `LISTEN tidings` on a connection of its own. Runs queued announce
//! themselves from a trigger (`0005_instances.sql`); schedule changes are announced by the
//! store's schedule operations. Each notification's payload names the schema it is about, so an
//! instance ignores what happens in other schemas of the same database.
//!
//! When the connection drops, the feed says [`StoreChange::Reconnected`] (what happened
//! meanwhile was not heard) and reconnects on the next call, waiting longer after each failed
//! attempt, up to 30 s; the instance's pollers cover the gap.

use std::time::Duration;

use async_trait::async_trait;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tidings_store::{ChangeFeed, StoreChange};

use crate::error::Result;

/// The channel every notification goes to.
pub(crate) const CHANNEL: &str = "tidings";

/// The longest wait between two reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

pub(crate) struct PgChangeFeed {
    listener: PgListener,
    schema: String,
    failures: u32,
}

/// The schema this pool's connections work in, as the notifications name it.
pub(crate) async fn current_schema(pool: &PgPool) -> Result<String> {
    Ok(sqlx::query_scalar("SELECT current_schema()")
        .fetch_one(pool)
        .await?)
}

pub(crate) async fn feed(pool: &PgPool) -> Result<PgChangeFeed> {
    let schema = current_schema(pool).await?;
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(PgChangeFeed {
        listener,
        schema,
        failures: 0,
    })
}

/// Announces a schedule change to every instance on this schema, at the commit of the
/// transaction it runs in (or at once, outside one).
pub(crate) async fn notify_schedules<'e, E>(executor: E) -> Result<()>
where
    E: sqlx::PgExecutor<'e>,
{
    sqlx::query("SELECT pg_notify($1, 'schedules:' || current_schema())")
        .bind(CHANNEL)
        .execute(executor)
        .await?;
    Ok(())
}

#[async_trait]
impl ChangeFeed for PgChangeFeed {
    async fn next(&mut self) -> Option<StoreChange> {
        loop {
            match self.listener.try_recv().await {
                Ok(Some(notification)) => {
                    self.failures = 0;
                    let Some((what, schema)) = notification.payload().split_once(':') else {
                        continue;
                    };
                    if schema != self.schema {
                        continue;
                    }
                    match what {
                        "runs" => return Some(StoreChange::RunsQueued),
                        "schedules" => return Some(StoreChange::SchedulesChanged),
                        _ => {}
                    }
                }
                // The connection was lost; the next call reconnects and listens again.
                Ok(None) => {
                    tracing::warn!(
                        "lost the PostgreSQL notification connection; reconnecting (polling meanwhile)"
                    );
                    return Some(StoreChange::Reconnected);
                }
                Err(error) => {
                    self.failures = self.failures.saturating_add(1);
                    let wait = Duration::from_secs(1 << self.failures.min(5)).min(MAX_BACKOFF);
                    tracing::warn!(
                        %error,
                        retry_in_s = wait.as_secs(),
                        "cannot reconnect the PostgreSQL notification connection"
                    );
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }
}
