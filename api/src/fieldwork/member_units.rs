//! The member units (共驻共建单位) a community invites to its meetings.

use crate::http::input::Json;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, get, post};
use onegrid_domain::permissions::Action;
use onegrid_domain::text::Text;
use onegrid_store::fieldwork::meetings::{self};
use onegrid_store::registry::hierarchy;
use onegrid_store::targets::On;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::error::ApiResult;
use crate::platform::auth::Caller;
use crate::state::AppState;

/// A member unit to register.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberUnitBody {
    pub name: Text<100>,
    pub kind: MemberUnitKind,
    #[schema(max_length = 50)]
    pub contact_name: Option<String>,
}

/// Kinds of member unit.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MemberUnitKind {
    Enterprise,
    Institution,
    SocialOrg,
    PartyOrg,
    Other,
}

impl MemberUnitKind {
    const fn as_str(self) -> &'static str {
        match self {
            MemberUnitKind::Enterprise => "enterprise",
            MemberUnitKind::Institution => "institution",
            MemberUnitKind::SocialOrg => "social_org",
            MemberUnitKind::PartyOrg => "party_org",
            MemberUnitKind::Other => "other",
        }
    }
}

/// A member unit of the joint party committee.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberUnitView {
    pub id: Uuid,
    pub community_id: Uuid,
    pub name: String,
    pub kind: String,
    pub contact_name: Option<String>,
}

fn unit_view(u: meetings::MemberUnit) -> MemberUnitView {
    MemberUnitView {
        id: u.id,
        community_id: u.community_id,
        name: u.name,
        kind: u.kind,
        contact_name: u.contact_name,
    }
}

/// Register a member unit
///
/// An enterprise, institution or organisation of the community's joint
/// party committee (联合党委) that sits in its needs meetings; names are
/// unique in the community (409).
#[utoipa::path(tag = "meetings", params(("community_id" = Uuid, Path, description = "Community id")), request_body = MemberUnitBody, responses((status = 201, body = MemberUnitView)))]
#[post("/communities/{community_id}/member-units")]
pub async fn add_member_unit(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    body: Json<MemberUnitBody>,
) -> ApiResult<HttpResponse> {
    let (id, body) = (id.into_inner(), body.into_inner());
    let name = body.name.trim().to_owned();
    let now = state.clock.now();
    let unit = state
        .on_row(
            caller,
            Action::MeetingManage,
            move |c| Box::pin(hierarchy::get_community(c, id)),
            move |c, _, community| {
                Box::pin(async move {
                    Ok(meetings::add_member_unit(
                        c,
                        community.street_id,
                        community.id,
                        name,
                        body.kind.as_str(),
                        body.contact_name,
                        now,
                    )
                    .await?)
                })
            },
        )
        .await?;
    Ok(HttpResponse::Created().json(unit_view(unit)))
}

/// List a community's member units
///
/// The joint party committee's member units of the community, by name.
#[utoipa::path(tag = "meetings", params(("community_id" = Uuid, Path, description = "Community id")), responses((status = 200, body = Vec<MemberUnitView>)))]
#[get("/communities/{community_id}/member-units")]
pub async fn list_member_units(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let units = state
        .proven(caller, Action::MeetingRead, On::Community(id), move |c| {
            Box::pin(async move { meetings::member_units(c, id).await })
        })
        .await?;
    Ok(HttpResponse::Ok().json(units.into_iter().map(unit_view).collect::<Vec<_>>()))
}
