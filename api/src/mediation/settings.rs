//! The district's mediation panel (联合调解平台) and its report-in windows.

use crate::http::input::Json;
use actix_web::web::Data;
use actix_web::{HttpResponse, get, put};
use chrono::{DateTime, Utc};
use onegrid_domain::permissions::Action;
use onegrid_store::Conn;
use onegrid_store::mediation::whistles::{self, Settings};
use onegrid_store::targets::On;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::settings_use::{self, SettingsBody};
use crate::http::error::ApiResult;
use crate::http::{IfMatch, ok_with_etag};
use crate::platform::auth::Caller;
use crate::state::AppState;

/// A department of the panel.
#[derive(Debug, Serialize, ToSchema)]
pub struct PanelDepartment {
    pub id: Uuid,
    pub code: String,
    pub name: String,
}

/// The district's mediation panel and report-in windows.
#[derive(Debug, Serialize, ToSchema)]
pub struct SettingsView {
    /// Report-in window of an emergency whistle.
    pub emergency_minutes: i32,
    /// Report-in window of any other whistle.
    pub other_hours: i32,
    /// The departments a street may summon (nine by default).
    pub panel: Vec<PanelDepartment>,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

async fn settings_view(c: &mut Conn, s: Settings) -> ApiResult<SettingsView> {
    let mut panel = Vec::with_capacity(s.panel.len());
    for id in &s.panel {
        let d = onegrid_store::registry::departments::get(c, *id).await?;
        panel.push(PanelDepartment {
            id: d.id,
            code: d.code,
            name: d.name,
        });
    }
    Ok(SettingsView {
        emergency_minutes: s.emergency_minutes,
        other_hours: s.other_hours,
        panel,
        version: s.version,
        updated_at: s.updated_at,
    })
}

/// The district's settings as shown.
async fn read(c: &mut Conn, district: Uuid) -> ApiResult<SettingsView> {
    let s = whistles::settings(c, district).await?;
    settings_view(c, s).await
}

/// Read the mediation settings
///
/// The panel of departments a street may summon and the report-in windows.
/// The ETag is the version to send with a change.
#[utoipa::path(tag = "mediation", responses((status = 200, body = SettingsView)))]
#[get("/mediation-settings")]
pub async fn get_settings(state: Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    // The street's officers read what they may summon; the district sets it.
    let either = (
        (Action::WhistleBlow, On::Anywhere),
        (Action::MediationSetup, On::District),
    );
    let view = state
        .checked_either(caller, either, move |c, p, _| {
            Box::pin(read(c, p.district_id))
        })
        .await?;
    let version = view.version;
    Ok(ok_with_etag(&view, version))
}

/// Change the mediation settings
///
/// Under If-Match. Summonses already issued keep their deadlines.
#[utoipa::path(tag = "mediation", request_body = SettingsBody, responses((status = 200, body = SettingsView)))]
#[put("/mediation-settings")]
pub async fn put_settings(
    state: Data<AppState>,
    caller: Caller,
    if_match: IfMatch,
    body: Json<SettingsBody>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    settings_use::check_body(&body)?;
    let now = state.clock.now();
    let view = state
        .checked(
            caller,
            Action::MediationSetup,
            On::District,
            move |c, p, _| {
                Box::pin(async move {
                    let version = if_match.version()?;
                    let s = settings_use::update(c, &p, version, body, now).await?;
                    settings_view(c, s).await
                })
            },
        )
        .await?;
    let version = view.version;
    Ok(ok_with_etag(&view, version))
}
