//! 破窗 (break the glass): a reason-bound, time-limited read of one protected
//! ledger type in one community, with notice to its admins.

use crate::http::input::Json;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, post};
use chrono::{DateTime, Utc};
use onegrid_domain::permissions::Action;
use onegrid_store::ledgers::{self};
use onegrid_store::targets::{Guarded, On};
use onegrid_store::{ledgers::break_glass, platform::audit, registry::hierarchy};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::check_name;
use crate::http::error::{ApiError, ApiResult, reference};
use crate::platform::auth::Caller;
use crate::state::AppState;

/// A break-glass request.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BreakGlassBody {
    /// The community whose records are needed.
    pub community_id: Uuid,
    /// Why (5-500 characters); the community's admins are told.
    pub reason: String,
}

/// An open break-glass grant.
#[derive(Debug, Serialize, ToSchema)]
pub struct BreakGlassView {
    pub id: Uuid,
    pub ledger_type_id: Uuid,
    pub community_id: Uuid,
    pub reason: String,
    pub granted_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Community admins notified.
    pub notified: usize,
}

/// Break the glass
///
/// Opens a 3-hour grant to read a protected ledger in one community outside
/// the caller's scope, for a stated reason. The grant and every read under it
/// are audited, and the community's admins are notified. Closed ledgers have
/// no break-glass.
#[utoipa::path(tag = "ledgers", params(("ledger_type_id" = Uuid, Path, description = "Ledger type id")), request_body = BreakGlassBody, responses((status = 201, body = BreakGlassView)))]
#[post("/ledger-types/{ledger_type_id}/break-glass")]
pub async fn break_the_glass(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    body: Json<BreakGlassBody>,
) -> ApiResult<HttpResponse> {
    let type_id = id.into_inner();
    let body = body.into_inner();
    if body.reason.trim().chars().count() < 5 {
        return Err(ApiError::field(
            "reason",
            "state why (at least 5 characters)",
        ));
    }
    check_name("reason", &body.reason, 500)?;
    let now = state.clock.now();
    let today = state.clock.today();
    let request_id = crate::http::request_id::current();
    // The community is named in the body: it is found (422 when it is not)
    // and, once the ledger is known to have a break-glass, checked.
    let grant = state
        .checked(caller, Action::BreakGlass, On::Anywhere, move |c, p, _| {
            Box::pin(async move {
                let t = ledgers::get_type(c, type_id).await?;
                let community = hierarchy::get_community(c, body.community_id).await.map_err(reference("community_id"))?;
                let target = community.target(p.district_id);
                if t.sensitivity() != onegrid_domain::ledger::Sensitivity::Protected {
                    return Err(ApiError::field("ledger_type_id", "only protected ledgers have a break-glass; open and audited ones need none, closed ones allow none"));
                }
                p.require(Action::BreakGlass, &target)?;
                let user = match p.actor {
                    onegrid_store::scope::Actor::User { user_id, .. } => user_id,
                    onegrid_store::scope::Actor::ApiKey { .. } => return Err(ApiError::forbidden("ledger.break_glass").with_detail("only people break the glass")),
                };
                let grant = break_glass::open(c, community.street_id, community.id, user, t.id, &body.reason, now).await?;
                let event = audit::Event {
                    street_id: Some(community.street_id),
                    action: "ledger.break_glass",
                    subject_type: "ledger_type",
                    subject_id: Some(t.id),
                    field: None,
                    purpose: Some(&body.reason),
                    request_id: &request_id,
                    details: serde_json::json!({ "community_id": community.id, "expires_at": grant.expires_at }),
                };
                audit::record(c, &p, event).await?;
                let notified = break_glass::notify_admins(
                    c,
                    p.district_id,
                    community.street_id,
                    community.id,
                    today,
                    &format!("破窗访问：{}", t.name),
                    serde_json::json!({ "grant_id": grant.id, "user_id": user, "ledger_type": t.code, "reason": body.reason, "expires_at": grant.expires_at }),
                )
                .await?;
                Ok(BreakGlassView {
                    id: grant.id,
                    ledger_type_id: grant.ledger_type_id,
                    community_id: grant.community_id,
                    reason: grant.reason,
                    granted_at: grant.granted_at,
                    expires_at: grant.expires_at,
                    notified,
                })
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(grant))
}
