//! Wake-ups: a dedicated PostgreSQL session listens on `onegrid_jobs` (the
//! jobs table notifies at the commit of every insert) and wakes the run loop
//! at once. Polling stays the floor: a lost listener only slows the worker
//! down, and it reconnects with backoff. Redis plays no part, so Redis being
//! down changes nothing here.

use std::sync::Arc;
use std::time::Duration;

use diesel_async::RunQueryDsl;
use futures_util::StreamExt;
use tokio::sync::Notify;

/// The channel the jobs table notifies on (see migration 000006).
pub const CHANNEL: &str = "onegrid_jobs";

/// Listens until the process ends, waking `notify` on every notice;
/// reconnects after 1 s doubling to 30 s when the session is lost.
pub async fn listen(database_url: String, notify: Arc<Notify>) {
    let mut backoff = Duration::from_secs(1);
    loop {
        match session(&database_url, &notify).await {
            Ok(()) => backoff = Duration::from_secs(1),
            Err(e) => {
                tracing::warn!(error = %e, retry_in = ?backoff, "job notifications lost; polling meanwhile");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
        }
    }
}

/// One listening session: returns when the connection ends.
async fn session(database_url: &str, notify: &Notify) -> Result<(), String> {
    let mut conn = onegrid_store::db::listening_session(database_url)
        .await
        .map_err(|e| e.to_string())?;
    diesel::sql_query(format!("LISTEN {CHANNEL}"))
        .execute(&mut conn)
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!("listening for queued jobs");
    // Whatever was queued while not listening is found by the next pass.
    notify.notify_one();
    let notices = conn.notifications_stream();
    let mut notices = std::pin::pin!(notices);
    while let Some(notice) = notices.next().await {
        notice.map_err(|e| e.to_string())?;
        notify.notify_one();
    }
    Err("the listening session ended".into())
}
