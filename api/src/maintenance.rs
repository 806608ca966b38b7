//! Operational commands that work across every street: re-sealing sensitive
//! fields (and webhook signing secrets) after a field-key rotation.

use diesel::sql_types::Text;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use onegrid_store::StoreError;
use onegrid_store::crypto::FieldKeys;
use uuid::Uuid;

/// Residents re-sealed per transaction.
const BATCH: i64 = 500;

#[derive(diesel::QueryableByName)]
struct Id {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: Uuid,
}

/// Re-seals every ID number and phone sealed under a retired key with the
/// current key, street by street in batches of [`BATCH`] (each batch its own
/// transaction, so a stopped run resumes where it stopped). Returns how many
/// residents were re-sealed. Afterwards the retired keys can be removed from
/// `ONEGRID_PREVIOUS_FIELD_KEYS`.
pub async fn rekey_fields(owner_url: &str, keys: &FieldKeys) -> Result<usize, StoreError> {
    let mut conn = AsyncPgConnection::establish(owner_url)
        .await
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
    let districts: Vec<Id> = diesel::sql_query("SELECT id FROM districts ORDER BY id")
        .load(&mut conn)
        .await?;
    let mut resealed = 0;
    for district in districts {
        let streets: Vec<Id> = conn
            .transaction::<_, StoreError, _>(async move |c| {
                diesel::sql_query(
                    "SELECT set_config('app.district_id', $1, true), set_config('app.district_wide', 'on', true)",
                )
                .bind::<Text, _>(district.id.to_string())
                .execute(c)
                .await?;
                Ok(diesel::sql_query("SELECT id FROM streets ORDER BY id")
                    .load(c)
                    .await?)
            })
            .await?;
        for street in streets {
            loop {
                let done = conn
                    .transaction::<_, StoreError, _>(async |c| {
                        diesel::sql_query("SELECT set_config('app.street_ids', $1, true)")
                            .bind::<Text, _>(street.id.to_string())
                            .execute(c)
                            .await?;
                        onegrid_store::registry::reseal_residents(c, keys, street.id, BATCH).await
                    })
                    .await?;
                resealed += done;
                if done == 0 {
                    break;
                }
            }
            tracing::info!(street = %street.id, "street re-sealed");
        }
    }
    // Webhook signing secrets, sealed with the same keys.
    let endpoints = conn
        .transaction::<_, StoreError, _>(async |c| {
            onegrid_store::webhooks::reseal_secrets(c, keys).await
        })
        .await?;
    tracing::info!(endpoints, "webhook secrets re-sealed");
    Ok(resealed)
}
