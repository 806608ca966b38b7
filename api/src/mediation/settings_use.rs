//! The use case of changing the district's mediation panel and report-in
//! windows, under the version last read. It knows no HTTP.

use chrono::{DateTime, Utc};
use onegrid_store::mediation::whistles::{self, Settings};
use onegrid_store::{Conn, Principal, StoreError};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::error::{ApiError, ApiResult, Code, FieldError};

/// New mediation settings.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsBody {
    /// 5 to 240.
    pub emergency_minutes: i32,
    /// 1 to 72.
    pub other_hours: i32,
    /// 1 to 20 departments of the district.
    pub panel: Vec<Uuid>,
}

/// 422 naming every field of `body` out of its range.
pub fn check_body(body: &SettingsBody) -> ApiResult<()> {
    let mut errors = Vec::new();
    if !(5..=240).contains(&body.emergency_minutes) {
        errors.push(FieldError {
            field: "emergency_minutes".into(),
            message: "5 to 240".into(),
        });
    }
    if !(1..=72).contains(&body.other_hours) {
        errors.push(FieldError {
            field: "other_hours".into(),
            message: "1 to 72".into(),
        });
    }
    let mut distinct = body.panel.clone();
    distinct.sort_unstable();
    distinct.dedup();
    if body.panel.is_empty() || body.panel.len() > 20 || distinct.len() != body.panel.len() {
        errors.push(FieldError {
            field: "panel".into(),
            message: "1 to 20 distinct departments".into(),
        });
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::fields(errors))
    }
}

/// Replaces `p`'s district's settings at `version` with `body`; the panel
/// names departments of the district only.
pub async fn update(
    c: &mut Conn,
    p: &Principal,
    version: i32,
    body: SettingsBody,
    now: DateTime<Utc>,
) -> ApiResult<Settings> {
    if let Some(bad) = onegrid_store::registry::departments::unknown(c, &body.panel)
        .await?
        .first()
    {
        return Err(ApiError::new(
            Code::InvalidReference,
            format!("panel: {bad} is not a department of the district"),
        ));
    }
    let current = whistles::settings(c, p.district_id).await?;
    let updated = whistles::update_settings(
        c,
        p.district_id,
        version,
        body.emergency_minutes,
        body.other_hours,
        body.panel,
        now,
    )
    .await?;
    Ok(updated.ok_or(StoreError::VersionMismatch {
        current: current.version,
    })?)
}
