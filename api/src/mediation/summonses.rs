//! 部门报到: department staff work their inbox of summonses across the
//! district's streets (report in, on site, actions, done); the street rates
//! each department.

use std::collections::HashMap;

use crate::http::input::Json;
use crate::http::input::Listed;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, get, post};
use chrono::{DateTime, Utc};
use onegrid_domain::mediation::{SummonsState, SummonsStep};
use onegrid_domain::permissions::{Action, Area};
use onegrid_store::mediation::whistles::{self, Summons, Whistle};
use onegrid_store::targets::On;
use onegrid_store::{Conn, Principal, cases, mediation::disputes};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::summonses_use::{self, RatingBody, SummonsStepBody};
use crate::http::error::{ApiError, ApiResult, Code};
use crate::http::{Paged, ok_with_etag};
use crate::mediation::dispute_views::PartyView;
use crate::platform::auth::Caller;
use crate::state::AppState;

/// What a summons is about.
#[derive(Debug, Serialize, ToSchema)]
pub struct SummonsSubject {
    /// dispute or case.
    pub kind: String,
    pub id: Uuid,
    /// The dispute's or case's number (absent for a case the caller cannot
    /// read: departments work a whistled case through its summons).
    pub number: Option<i64>,
    /// The dispute's parties (names masked for department staff, phones
    /// always masked); empty for a case.
    pub parties: Vec<PartyView>,
}

/// A summoned department's report-in.
#[derive(Debug, Serialize, ToSchema)]
pub struct SummonsView {
    pub id: Uuid,
    pub whistle_id: Uuid,
    pub street_id: Uuid,
    pub department_id: Uuid,
    /// pressing, joint_enforcement or emergency.
    pub reason: String,
    /// What the street asks (the whistle's summary).
    pub summary: String,
    pub subject: SummonsSubject,
    /// summoned, reported_in, on_site or done.
    pub state: SummonsState,
    /// The steps the department may take now.
    pub allowed: Vec<&'static str>,
    pub summoned_at: DateTime<Utc>,
    pub deadline_at: DateTime<Utc>,
    pub reported_at: Option<DateTime<Utc>>,
    /// Reported in after the deadline.
    pub late: bool,
    pub on_site_at: Option<DateTime<Utc>>,
    pub done_at: Option<DateTime<Utc>>,
    pub reminded_at: Option<DateTime<Utc>>,
    /// Set once by the worker when the deadline passed without a report-in.
    pub overdue_at: Option<DateTime<Utc>>,
    /// Escalated to the district (with the overdue mark).
    pub escalated_at: Option<DateTime<Utc>>,
    pub rating: Option<i16>,
    pub rating_comment: Option<String>,
    pub version: i32,
}

/// The whistle each summons answers and what it is about.
struct Context {
    whistles: HashMap<Uuid, Whistle>,
    subjects: HashMap<Uuid, SummonsSubject>,
}

/// Loads the whistles of `list` and their subjects in a fixed number of
/// queries, whatever the length of the list.
async fn context(
    state: &AppState,
    c: &mut Conn,
    p: &Principal,
    list: &[Summons],
) -> ApiResult<Context> {
    let mut ids: Vec<Uuid> = list.iter().map(|s| s.whistle_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let found = whistles::get_whistles(c, &ids).await?;
    let dispute_ids: Vec<Uuid> = found.iter().filter_map(|w| w.dispute_id).collect();
    let found_disputes = disputes::get_many(c, &dispute_ids).await?;
    let mut parties = disputes::parties_of(c, &dispute_ids).await?;
    let case_ids: Vec<Uuid> = found.iter().filter_map(|w| w.case_id).collect();
    let numbers = cases::numbers_of(c, &case_ids).await?;
    let mut subjects = HashMap::new();
    for w in &found {
        let subject = match w.dispute_id {
            Some(id) => {
                let number = found_disputes.iter().find(|d| d.id == id).map(|d| d.number);
                let (mine, rest): (Vec<_>, Vec<_>) =
                    parties.into_iter().partition(|x| x.dispute_id == id);
                parties = rest;
                SummonsSubject {
                    kind: "dispute".into(),
                    id,
                    number,
                    parties: mine
                        .into_iter()
                        .map(|x| crate::mediation::dispute_views::party_view(state, p, x))
                        .collect(),
                }
            }
            None => {
                let id = w.case_id.unwrap_or_default();
                let number = numbers.get(&id).copied();
                SummonsSubject {
                    kind: "case".into(),
                    id,
                    number,
                    parties: Vec::new(),
                }
            }
        };
        subjects.insert(w.id, subject);
    }
    Ok(Context {
        whistles: found.into_iter().map(|w| (w.id, w)).collect(),
        subjects,
    })
}

fn summons_view(ctx: &mut Context, s: Summons) -> SummonsView {
    let summary = ctx
        .whistles
        .get(&s.whistle_id)
        .map(|w| w.summary.clone())
        .unwrap_or_default();
    let subject = ctx.subjects.remove(&s.whistle_id).map_or_else(
        || SummonsSubject {
            kind: if s.dispute_id.is_some() {
                "dispute"
            } else {
                "case"
            }
            .into(),
            id: s.dispute_id.or(s.case_id).unwrap_or_default(),
            number: None,
            parties: Vec::new(),
        },
        |subject| {
            // Several summonses of one whistle share the subject.
            let copy = SummonsSubject {
                kind: subject.kind.clone(),
                id: subject.id,
                number: subject.number,
                parties: subject
                    .parties
                    .iter()
                    .map(|x| PartyView {
                        id: x.id,
                        role: x.role.clone(),
                        kind: x.kind.clone(),
                        resident_id: x.resident_id,
                        name: x.name.clone(),
                        phone: x.phone.clone(),
                    })
                    .collect(),
            };
            ctx.subjects.insert(s.whistle_id, subject);
            copy
        },
    );
    let late = s.reported_at.is_some_and(|r| r > s.deadline_at);
    SummonsView {
        id: s.id,
        whistle_id: s.whistle_id,
        street_id: s.street_id,
        department_id: s.department_id,
        reason: s.reason.clone(),
        summary,
        subject,
        allowed: SummonsStep::allowed(s.state),
        state: s.state,
        summoned_at: s.summoned_at,
        deadline_at: s.deadline_at,
        reported_at: s.reported_at,
        late,
        on_site_at: s.on_site_at,
        done_at: s.done_at,
        reminded_at: s.reminded_at,
        overdue_at: s.overdue_at,
        escalated_at: s.escalated_at,
        rating: s.rating,
        rating_comment: s.rating_comment,
        version: s.version,
    }
}

pub(crate) async fn summons_views(
    state: &AppState,
    c: &mut Conn,
    p: &Principal,
    list: Vec<Summons>,
) -> ApiResult<Vec<SummonsView>> {
    let mut ctx = context(state, c, p, &list).await?;
    Ok(list
        .into_iter()
        .map(|s| summons_view(&mut ctx, s))
        .collect())
}

/// Filters of the summons list (a department's inbox).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SummonsQuery {
    pub state: Option<SummonsState>,
    pub department_id: Option<Uuid>,
    /// Only those marked overdue (true) or not (false).
    pub overdue: Option<bool>,
    pub cursor: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

crate::http::page_params!(SummonsQuery);

/// The department inbox: summonses
///
/// For department staff, every summons of their department across the
/// district's streets (escalated cases routed to the department are in
/// `GET /cases`); for street officers, their street's. Newest first;
/// parties' names masked for department staff, phones always masked.
#[utoipa::path(tag = "mediation", params(SummonsQuery), responses((status = 200, body = Paged<SummonsView>)))]
#[get("/summonses")]
pub async fn list_summonses(
    state: Data<AppState>,
    caller: Caller,
    Listed(q, page): Listed<SummonsQuery>,
) -> ApiResult<HttpResponse> {
    let filter = whistles::SummonsFilter {
        area: Area::default(),
        state: q.state,
        department_id: q.department_id,
        overdue: q.overdue,
    };
    let st = state.clone();
    let page = state
        .checked(caller, Action::SummonsRead, On::Anywhere, move |c, p, _| {
            Box::pin(async move {
                let rows = summonses_use::inbox(c, &p, filter, &page).await?;
                let next_after = rows.next_after;
                let items = summons_views(&st, c, &p, rows.items).await?;
                Ok(onegrid_store::page::Page { items, next_after })
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(page, |v| v)))
}

/// A summons with what was done.
#[derive(Debug, Serialize, ToSchema)]
pub struct SummonsDetail {
    #[serde(flatten)]
    pub summons: SummonsView,
    pub actions: Vec<ActionView>,
}

/// A step on a summons, by a department or the worker.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActionView {
    /// report_in, on_site, action, done, reminded, overdue, escalated or rated.
    pub step: String,
    pub note: Option<String>,
    /// The nil id for the worker.
    pub actor_id: Uuid,
    pub at: DateTime<Utc>,
}

async fn summons_detail(
    state: &AppState,
    c: &mut Conn,
    p: &Principal,
    s: Summons,
) -> ApiResult<SummonsDetail> {
    let actions = whistles::actions(c, &s)
        .await?
        .into_iter()
        .map(|a| ActionView {
            step: a.step,
            note: a.note,
            actor_id: a.actor_id,
            at: a.at,
        })
        .collect();
    let summons = summons_views(state, c, p, vec![s])
        .await?
        .pop()
        .ok_or_else(|| ApiError::new(Code::Internal, "a summons went missing"))?;
    Ok(SummonsDetail { summons, actions })
}

/// Read a summons
///
/// With every step taken on it, by the department and by the worker.
#[utoipa::path(tag = "mediation", params(("summons_id" = Uuid, Path, description = "Summons id")), responses((status = 200, body = SummonsDetail)))]
#[get("/summonses/{summons_id}")]
pub async fn get_summons(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let st = state.clone();
    let view = state
        .on_row(
            caller,
            Action::SummonsRead,
            move |c| Box::pin(whistles::get_summons(c, id)),
            move |c, p, s| Box::pin(async move { summons_detail(&st, c, &p, s).await }),
        )
        .await?;
    let version = view.summons.version;
    Ok(ok_with_etag(&view, version))
}

/// Take a step on a summons (部门报到)
///
/// Department staff: `report_in` (once; after the deadline it counts as
/// late), `on_site`, `action` (a note of what was done), `done`. An illegal
/// step is 409 with the steps allowed now; of two concurrent report-ins
/// exactly one wins.
#[utoipa::path(tag = "mediation", params(("summons_id" = Uuid, Path, description = "Summons id")), request_body = SummonsStepBody, responses((status = 200, body = SummonsDetail)))]
#[post("/summonses/{summons_id}/steps")]
pub async fn summons_step(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    body: Json<SummonsStepBody>,
) -> ApiResult<HttpResponse> {
    let (id, body) = (id.into_inner(), body.into_inner());
    summonses_use::check_step(&body)?;
    let now = state.clock.now();
    let st = state.clone();
    let view = state
        .on_row(
            caller,
            Action::SummonsWork,
            move |c| Box::pin(whistles::get_summons(c, id)),
            move |c, p, s| {
                Box::pin(async move {
                    let updated = summonses_use::step(c, &p, s, body, now).await?;
                    summons_detail(&st, c, &p, updated).await
                })
            },
        )
        .await?;
    let version = view.summons.version;
    Ok(ok_with_etag(&view, version))
}

/// Rate a department's response
///
/// The street officer, once the department is done or the whistle closed;
/// once per summons (409 after).
#[utoipa::path(tag = "mediation", params(("summons_id" = Uuid, Path, description = "Summons id")), request_body = RatingBody, responses((status = 200, body = SummonsDetail)))]
#[post("/summonses/{summons_id}/rating")]
pub async fn rate_summons(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    body: Json<RatingBody>,
) -> ApiResult<HttpResponse> {
    let (id, body) = (id.into_inner(), body.into_inner());
    summonses_use::check_rating(&body)?;
    let now = state.clock.now();
    let st = state.clone();
    let view = state
        .on_row(
            caller,
            Action::WhistleBlow,
            move |c| Box::pin(whistles::get_summons(c, id)),
            move |c, p, s| {
                Box::pin(async move {
                    let rated = summonses_use::rate(c, &p, s, body, now).await?;
                    summons_detail(&st, c, &p, rated).await
                })
            },
        )
        .await?;
    let version = view.summons.version;
    Ok(ok_with_etag(&view, version))
}
