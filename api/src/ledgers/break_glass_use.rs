//! The use case of breaking the glass (破窗): a reason-bound, three-hour read
//! of one protected ledger type in one community outside the caller's
//! scope, audited, with notice to the community's admins. It knows no HTTP.

use chrono::{DateTime, NaiveDate, Utc};
use onegrid_domain::permissions::Action;
use onegrid_store::ledgers;
use onegrid_store::targets::Guarded;
use onegrid_store::{Conn, Principal, ledgers::break_glass, platform::audit, registry::hierarchy};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::check_reason;
use crate::http::error::{ApiError, ApiResult, reference};

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

/// 422 unless the reason says why in 5 to 500 characters.
pub fn check_body(body: &BreakGlassBody) -> ApiResult<()> {
    check_reason(&body.reason)
}

/// The command: which ledger, where and why, when and under which request.
pub struct BreakGlass {
    pub ledger_type_id: Uuid,
    pub body: BreakGlassBody,
    pub now: DateTime<Utc>,
    pub today: NaiveDate,
    pub request_id: String,
}

/// Opens the grant for `p`, a person who may break the glass in the named
/// community (found, or 422), on a protected ledger only.
pub async fn open(c: &mut Conn, p: &Principal, cmd: BreakGlass) -> ApiResult<BreakGlassView> {
    let t = ledgers::get_type(c, cmd.ledger_type_id).await?;
    let community = hierarchy::get_community(c, cmd.body.community_id)
        .await
        .map_err(reference("community_id"))?;
    let target = community.target(p.district_id);
    if t.sensitivity() != onegrid_domain::ledger::Sensitivity::Protected {
        return Err(ApiError::field(
            "ledger_type_id",
            "only protected ledgers have a break-glass; open and audited ones need none, closed ones allow none",
        ));
    }
    p.require(Action::BreakGlass, &target)?;
    let user = match p.actor {
        onegrid_store::scope::Actor::User { user_id, .. } => user_id,
        onegrid_store::scope::Actor::ApiKey { .. } => {
            return Err(ApiError::forbidden("ledger.break_glass")
                .with_detail("only people break the glass"));
        }
    };
    let grant = break_glass::open(
        c,
        community.street_id,
        community.id,
        user,
        t.id,
        &cmd.body.reason,
        cmd.now,
    )
    .await?;
    let event = audit::Event {
        street_id: Some(community.street_id),
        action: "ledger.break_glass",
        subject_type: "ledger_type",
        subject_id: Some(t.id),
        field: None,
        purpose: Some(&cmd.body.reason),
        request_id: &cmd.request_id,
        details: serde_json::json!({ "community_id": community.id, "expires_at": grant.expires_at }),
    };
    audit::record(c, p, event).await?;
    let notified = break_glass::notify_admins(
        c,
        p.district_id,
        community.street_id,
        community.id,
        cmd.today,
        &format!("破窗访问：{}", t.name),
        serde_json::json!({ "grant_id": grant.id, "user_id": user, "ledger_type": t.code, "reason": cmd.body.reason, "expires_at": grant.expires_at }),
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
}
