//! Operational commands that work across every street: re-sealing sensitive
//! fields (and webhook signing secrets) after a field-key rotation.

use diesel_async::RunQueryDsl;
use onegrid_store::crypto::FieldKeys;
use onegrid_store::{Acting, StoreError, System};
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
pub async fn rekey_fields(system: &mut System, keys: &FieldKeys) -> Result<usize, StoreError> {
    let districts: Vec<Id> = system
        .run(Acting::Nobody, |c| {
            Box::pin(async move {
                Ok::<_, StoreError>(
                    diesel::sql_query("SELECT id FROM districts ORDER BY id")
                        .load(c)
                        .await?,
                )
            })
        })
        .await?;
    let mut resealed = 0;
    for district in districts {
        let streets: Vec<Id> = system
            .run::<_, StoreError, _>(Acting::WholeDistrict(district.id), |c| {
                Box::pin(async move {
                    Ok(diesel::sql_query("SELECT id FROM streets ORDER BY id")
                        .load(c)
                        .await?)
                })
            })
            .await?;
        for street in streets {
            loop {
                let acting = Acting::Street {
                    district: district.id,
                    street: street.id,
                };
                let done = system
                    .run::<_, StoreError, _>(acting, |c| {
                        let keys = keys.clone();
                        Box::pin(async move {
                            onegrid_store::registry::households::reseal_residents(
                                c, &keys, street.id, BATCH,
                            )
                            .await
                        })
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
    let endpoints = system
        .run::<_, StoreError, _>(Acting::Nobody, |c| {
            let keys = keys.clone();
            Box::pin(async move {
                onegrid_store::integrations::webhooks::reseal_secrets(c, &keys).await
            })
        })
        .await?;
    tracing::info!(endpoints, "webhook secrets re-sealed");
    Ok(resealed)
}
