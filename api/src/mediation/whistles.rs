//! 街道吹哨 and 部门报到: the district's mediation panel and report-in
//! windows; a street officer blows the whistle on a dispute or case and
//! summons panel departments; department staff work their inbox across the
//! district's streets (report in, on site, actions, done); the street rates
//! each department; the figures and rankings of a period.

use std::collections::HashMap;

use crate::http::input::Json;
use crate::http::input::Query;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, get, post, put};
use chrono::{DateTime, Utc};
use onegrid_domain::mediation::{Level, SummonsStep, WhistleReason};
use onegrid_domain::permissions::{Action, Area, Target, area};
use onegrid_store::mediation::whistles::{self, NewWhistle, Settings, Summons, Whistle};
use onegrid_store::{Conn, Principal, StoreError, cases, mediation::disputes, mediation::kpis};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::http::error::{ApiError, ApiResult, Code, FieldError, reference};
use crate::http::{IfMatch, PageQuery, Paged, ok_with_etag};
use crate::mediation::disputes::PartyView;
use crate::platform::auth::Caller;
use crate::state::{AppState, Guard};

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

/// Read the mediation settings
///
/// The panel of departments a street may summon and the report-in windows.
/// The ETag is the version to send with a change.
#[utoipa::path(tag = "mediation", responses((status = 200, body = SettingsView)))]
#[get("/mediation-settings")]
pub async fn get_settings(state: Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let view = state
        .run(caller, move |c, p| {
            Box::pin(async move {
                if !p.can_anywhere(Action::WhistleBlow) {
                    p.require(Action::MediationSetup, &Target::district(p.district_id))?;
                }
                let s = whistles::settings(c, p.district_id).await?;
                settings_view(c, s).await
            })
        })
        .await?;
    let version = view.version;
    Ok(ok_with_etag(&view, version))
}

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
    if !errors.is_empty() {
        return Err(ApiError::fields(errors));
    }
    let now = state.clock.now();
    let view = state
        .run(caller, move |c, p| {
            Box::pin(async move {
                p.require(Action::MediationSetup, &Target::district(p.district_id))?;
                let version = if_match.version()?;
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
                let s = whistles::update_settings(
                    c,
                    p.district_id,
                    version,
                    body.emergency_minutes,
                    body.other_hours,
                    body.panel,
                    now,
                )
                .await?
                .ok_or(StoreError::VersionMismatch {
                    current: current.version,
                })?;
                settings_view(c, s).await
            })
        })
        .await?;
    let version = view.version;
    Ok(ok_with_etag(&view, version))
}

/// What a summons is about.
#[derive(Debug, Serialize, ToSchema)]
pub struct Subject {
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
    pub subject: Subject,
    /// summoned, reported_in, on_site or done.
    pub state: String,
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
    subjects: HashMap<Uuid, Subject>,
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
    let mut subjects = HashMap::new();
    for w in &found {
        let subject = match w.dispute_id {
            Some(id) => {
                let number = found_disputes.iter().find(|d| d.id == id).map(|d| d.number);
                let (mine, rest): (Vec<_>, Vec<_>) =
                    parties.into_iter().partition(|x| x.dispute_id == id);
                parties = rest;
                Subject {
                    kind: "dispute".into(),
                    id,
                    number,
                    parties: mine
                        .into_iter()
                        .map(|x| crate::mediation::disputes::party_view(state, p, x))
                        .collect(),
                }
            }
            None => {
                let id = w.case_id.unwrap_or_default();
                let number = match cases::get_case(c, id).await {
                    Ok(case) => Some(case.number),
                    Err(StoreError::NotFound) => None,
                    Err(e) => return Err(e.into()),
                };
                Subject {
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
        || Subject {
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
            let copy = Subject {
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
        allowed: SummonsStep::allowed(s.state()),
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

async fn summons_views(
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

/// A whistle with its summonses.
#[derive(Debug, Serialize, ToSchema)]
pub struct WhistleView {
    pub id: Uuid,
    pub street_id: Uuid,
    pub dispute_id: Option<Uuid>,
    pub case_id: Option<Uuid>,
    pub reason: String,
    pub summary: String,
    /// open or closed.
    pub status: String,
    pub blown_by: Uuid,
    pub blown_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub summonses: Vec<SummonsView>,
    pub version: i32,
}

async fn whistle_view(
    state: &AppState,
    c: &mut Conn,
    p: &Principal,
    w: Whistle,
) -> ApiResult<WhistleView> {
    let list = whistles::summonses_of(c, &w).await?;
    let summonses = summons_views(state, c, p, list).await?;
    Ok(WhistleView {
        id: w.id,
        street_id: w.street_id,
        dispute_id: w.dispute_id,
        case_id: w.case_id,
        reason: w.reason,
        summary: w.summary,
        status: w.status,
        blown_by: w.blown_by,
        blown_at: w.blown_at,
        closed_at: w.closed_at,
        summonses,
        version: w.version,
    })
}

/// A whistle to blow.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WhistleBody {
    /// A dispute at the street (or the centre); or give `case_id`.
    pub dispute_id: Option<Uuid>,
    pub case_id: Option<Uuid>,
    pub reason: WhistleReason,
    /// What the street asks of the departments (1 to 500 characters).
    pub summary: String,
    /// Departments of the district's panel, 1 or more.
    pub department_ids: Vec<Uuid>,
}

/// Blow the whistle (街道吹哨)
///
/// A street officer summons departments of the district's mediation panel
/// on one of the street's open disputes (once it has reached the street) or
/// open cases. Each department must report in by its deadline: 30 minutes
/// for an emergency, hours otherwise (the district's settings). The worker
/// reminds them half way and marks a missed deadline once, escalating it to
/// the district; integrators get `mediation.summoned` per department.
#[utoipa::path(tag = "mediation", request_body = WhistleBody, responses((status = 201, body = WhistleView)))]
#[post("/whistles")]
pub async fn blow_whistle(
    state: Data<AppState>,
    caller: Caller,
    body: Json<WhistleBody>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let mut errors = Vec::new();
    if body.dispute_id.is_some() == body.case_id.is_some() {
        errors.push(FieldError {
            field: "dispute_id".into(),
            message: "give a dispute_id or a case_id".into(),
        });
    }
    if body.summary.trim().is_empty() || body.summary.chars().count() > 500 {
        errors.push(FieldError {
            field: "summary".into(),
            message: "1 to 500 characters".into(),
        });
    }
    let mut distinct = body.department_ids.clone();
    distinct.sort_unstable();
    distinct.dedup();
    if body.department_ids.is_empty() || distinct.len() != body.department_ids.len() {
        errors.push(FieldError {
            field: "department_ids".into(),
            message: "one or more distinct departments".into(),
        });
    }
    if !errors.is_empty() {
        return Err(ApiError::fields(errors));
    }
    let now = state.clock.now();
    let st = state.clone();
    let view = state
        .run(caller, move |c, p| {
            Box::pin(async move {
                let street = if let Some(id) = body.dispute_id {
                    let d = disputes::get(c, id)
                        .await
                        .map_err(reference("dispute_id"))?;
                    p.require(Action::WhistleBlow, &Target::street(p.district_id, d.street_id))?;
                    if !d.is_open() {
                        return Err(ApiError::new(
                            Code::Conflict,
                            format!("the dispute is {}", d.status),
                        ));
                    }
                    if d.level() < Level::Street {
                        return Err(ApiError::new(
                            Code::Conflict,
                            "the dispute is still at the grid or community: move it up to the street first",
                        ));
                    }
                    d.street_id
                } else {
                    let id = body.case_id.unwrap_or_default();
                    let case = cases::get_case(c, id).await.map_err(reference("case_id"))?;
                    p.require(Action::WhistleBlow, &Target::street(p.district_id, case.street_id))?;
                    if !case.status().is_open() {
                        return Err(ApiError::new(
                            Code::Conflict,
                            format!("the case is {}", case.status),
                        ));
                    }
                    case.street_id
                };
                let settings = whistles::settings(c, p.district_id).await?;
                if let Some(bad) = body
                    .department_ids
                    .iter()
                    .find(|d| !settings.panel.contains(d))
                {
                    return Err(ApiError::new(
                        Code::InvalidReference,
                        format!("department_ids: {bad} is not on the district's mediation panel"),
                    ));
                }
                let (w, _) = whistles::blow(
                    c,
                    NewWhistle {
                        district_id: p.district_id,
                        street_id: street,
                        dispute_id: body.dispute_id,
                        case_id: body.case_id,
                        reason: body.reason,
                        summary: body.summary.trim().to_owned(),
                        departments: body.department_ids,
                        blown_by: p.accountable_user(),
                    },
                    settings.windows(),
                    now,
                )
                .await?;
                let data = serde_json::json!({"whistle_id": w.id, "reason": w.reason});
                if let Some(id) = w.dispute_id {
                    let d = disputes::get(c, id).await?;
                    disputes::append_event(
                        c,
                        &d,
                        disputes::NewEvent {
                            step: "whistle",
                            from_level: None,
                            to_level: None,
                            reason: Some(w.summary.clone()),
                            actor_id: p.accountable_user(),
                            data,
                            at: now,
                        },
                    )
                    .await?;
                } else if let Some(id) = w.case_id {
                    let case = cases::get_case(c, id).await?;
                    let calendar = onegrid_store::cases::setup::calendar(c, p.district_id).await?;
                    let actor = cases::Actor {
                        id: p.accountable_user(),
                        kind: "user",
                    };
                    let note = cases::note(&case, "whistle", actor, data, now, &calendar);
                    cases::record_step(c, &case, case.version, note).await?;
                }
                whistle_view(&st, c, &p, w).await
            })
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("location", format!("/api/v1/whistles/{}", view.id)))
        .insert_header(("etag", crate::http::etag(view.version)))
        .json(view))
}

/// Filters of the whistle list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct WhistleQuery {
    /// open or closed.
    pub status: Option<String>,
    pub cursor: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

/// List whistles
///
/// The street's (street officers), the district's (district admins), or
/// those that summoned one's department (department staff); newest first.
#[utoipa::path(tag = "mediation", params(WhistleQuery), responses((status = 200, body = Paged<WhistleView>)))]
#[get("/whistles")]
pub async fn list_whistles(
    state: Data<AppState>,
    caller: Caller,
    q: Query<WhistleQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    if q.status
        .as_deref()
        .is_some_and(|s| s != "open" && s != "closed")
    {
        return Err(ApiError::new(
            Code::InvalidParameter,
            "status is open or closed",
        ));
    }
    let page = PageQuery {
        cursor: q.cursor,
        limit: q.limit,
    }
    .request()?;
    let st = state.clone();
    let page = state
        .run(caller, move |c, p| {
            Box::pin(async move {
                p.require_anywhere(Action::SummonsRead)?;
                let rows = whistles::list_whistles(c, q.status, &page).await?;
                let mut items = Vec::with_capacity(rows.items.len());
                for w in rows.items {
                    if may_read_whistle(&p, &w) {
                        items.push(whistle_view(&st, c, &p, w).await?);
                    }
                }
                Ok(onegrid_store::page::Page {
                    items,
                    next_after: rows.next_after,
                })
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(page, |v| v)))
}

/// Street officers read the street's whistles; department staff those that
/// summoned their departments (the wall shows them only those).
fn may_read_whistle(p: &Principal, w: &Whistle) -> bool {
    p.can(Action::SummonsRead, &w.target())
        || p.departments().into_iter().any(|department| {
            p.can(
                Action::SummonsRead,
                &Target {
                    department: Some(department),
                    ..w.target()
                },
            )
        })
}

async fn load_whistle(c: &mut Conn, p: &Principal, id: Uuid) -> ApiResult<Whistle> {
    let w = whistles::get_whistle(c, id).await?;
    if may_read_whistle(p, &w) {
        Ok(w)
    } else {
        Err(ApiError::forbidden(
            onegrid_domain::permissions::rule(Action::SummonsRead).name,
        ))
    }
}

/// Read a whistle
///
/// With every summons: state, deadline, report-in time, lateness, overdue
/// and escalation marks, rating.
#[utoipa::path(tag = "mediation", params(("whistle_id" = Uuid, Path, description = "Whistle id")), responses((status = 200, body = WhistleView)))]
#[get("/whistles/{whistle_id}")]
pub async fn get_whistle(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let st = state.clone();
    let view = state
        .run(caller, move |c, p| {
            Box::pin(async move {
                let w = load_whistle(c, &p, id).await?;
                whistle_view(&st, c, &p, w).await
            })
        })
        .await?;
    let version = view.version;
    Ok(ok_with_etag(&view, version))
}

/// Close a whistle
///
/// The street officer ends the joint action (under If-Match); ratings of
/// the departments may follow.
#[utoipa::path(tag = "mediation", params(("whistle_id" = Uuid, Path, description = "Whistle id")), responses((status = 200, body = WhistleView)))]
#[post("/whistles/{whistle_id}/close")]
pub async fn close_whistle(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let now = state.clock.now();
    let st = state.clone();
    let view = state
        .run(caller, move |c, p| {
            Box::pin(async move {
                let w = whistles::get_whistle(c, id).await?;
                p.require(Action::WhistleBlow, &w.target())?;
                let version = if_match.version()?;
                if w.status == "closed" {
                    return Err(ApiError::new(Code::Conflict, "the whistle is closed"));
                }
                let closed = whistles::close_whistle(c, &w, version, now)
                    .await?
                    .ok_or(StoreError::VersionMismatch { current: w.version })?;
                whistle_view(&st, c, &p, closed).await
            })
        })
        .await?;
    let version = view.version;
    Ok(ok_with_etag(&view, version))
}

/// Filters of the summons list (a department's inbox).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SummonsQuery {
    /// summoned, reported_in, on_site or done.
    pub state: Option<String>,
    pub department_id: Option<Uuid>,
    /// Only those marked overdue (true) or not (false).
    pub overdue: Option<bool>,
    pub cursor: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

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
    q: Query<SummonsQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    if q.state
        .as_deref()
        .is_some_and(|s| onegrid_domain::mediation::SummonsState::parse(s).is_none())
    {
        return Err(ApiError::new(
            Code::InvalidParameter,
            "state is summoned, reported_in, on_site or done",
        ));
    }
    let page = PageQuery {
        cursor: q.cursor,
        limit: q.limit,
    }
    .request()?;
    let filter = whistles::SummonsFilter {
        area: Area::default(),
        state: q.state,
        department_id: q.department_id,
        overdue: q.overdue,
    };
    let st = state.clone();
    let page = state
        .run(caller, move |c, p| {
            Box::pin(async move {
                p.require_anywhere(Action::SummonsRead)?;
                let mut filter = filter;
                filter.area = area(&p.grants, Action::SummonsRead);
                // A one-department inbox names its department: the query then
                // walks that department's index instead of every summons.
                if filter.department_id.is_none()
                    && p.department_only()
                    && let [only] = p.departments()[..]
                {
                    filter.department_id = Some(only);
                }
                let rows = whistles::list_summonses(c, &filter, &page).await?;
                let next_after = rows.next_after;
                let items = summons_views(&st, c, &p, rows.items).await?;
                Ok(onegrid_store::page::Page { items, next_after })
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(page, |v| v)))
}

async fn load_summons(c: &mut Conn, p: &Principal, id: Uuid, action: Action) -> ApiResult<Summons> {
    let s = whistles::get_summons(c, id).await?;
    p.require(action, &s.target())?;
    Ok(s)
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
        .run(caller, move |c, p| {
            Box::pin(async move {
                let s = load_summons(c, &p, id, Action::SummonsRead).await?;
                summons_detail(&st, c, &p, s).await
            })
        })
        .await?;
    let version = view.summons.version;
    Ok(ok_with_etag(&view, version))
}

/// A department's step.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepBody {
    pub step: SummonsStep,
    /// What was done (required for `action`).
    pub note: Option<String>,
}

/// Take a step on a summons (部门报到)
///
/// Department staff: `report_in` (once; after the deadline it counts as
/// late), `on_site`, `action` (a note of what was done), `done`. An illegal
/// step is 409 with the steps allowed now; of two concurrent report-ins
/// exactly one wins.
#[utoipa::path(tag = "mediation", params(("summons_id" = Uuid, Path, description = "Summons id")), request_body = StepBody, responses((status = 200, body = SummonsDetail)))]
#[post("/summonses/{summons_id}/steps")]
pub async fn summons_step(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    body: Json<StepBody>,
) -> ApiResult<HttpResponse> {
    let (id, body) = (id.into_inner(), body.into_inner());
    if body.note.as_ref().is_some_and(|n| n.chars().count() > 2000) {
        return Err(ApiError::field("note", "at most 2000 characters"));
    }
    if body.step == SummonsStep::Action && body.note.as_deref().is_none_or(|n| n.trim().is_empty())
    {
        return Err(ApiError::field("note", "say what was done"));
    }
    let now = state.clock.now();
    let st = state.clone();
    let view = state
        .run(caller, move |c, p| {
            Box::pin(async move {
                let s = load_summons(c, &p, id, Action::SummonsWork).await?;
                let Some(updated) =
                    whistles::step(c, &s, body.step, body.note, p.accountable_user(), now).await?
                else {
                    // Re-read: a concurrent step may have moved it.
                    let current = whistles::get_summons(c, id).await?;
                    let mut err = ApiError::new(
                        Code::IllegalTransition,
                        format!(
                            "{} is not allowed while the summons is {}",
                            body.step.as_str(),
                            current.state
                        ),
                    );
                    err.allowed = SummonsStep::allowed(current.state())
                        .into_iter()
                        .map(str::to_owned)
                        .collect();
                    return Err(err);
                };
                summons_detail(&st, c, &p, updated).await
            })
        })
        .await?;
    let version = view.summons.version;
    Ok(ok_with_etag(&view, version))
}

/// The street's rating of a department's response.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingBody {
    /// 10, 8, 6, 3 or 0.
    pub score: i16,
    pub comment: Option<String>,
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
    if ![10, 8, 6, 3, 0].contains(&body.score) {
        return Err(ApiError::field("score", "10, 8, 6, 3 or 0"));
    }
    if body
        .comment
        .as_ref()
        .is_some_and(|n| n.chars().count() > 500)
    {
        return Err(ApiError::field("comment", "at most 500 characters"));
    }
    let now = state.clock.now();
    let st = state.clone();
    let view = state
        .run(caller, move |c, p| {
            Box::pin(async move {
                let s = whistles::get_summons(c, id).await?;
                p.require(
                    Action::WhistleBlow,
                    &Target::street(s.district_id, s.street_id),
                )?;
                let w = whistles::get_whistle(c, s.whistle_id).await?;
                if s.state != "done" && w.status != "closed" {
                    return Err(ApiError::new(
                        Code::Conflict,
                        "rate once the department is done or the whistle is closed",
                    ));
                }
                let rated =
                    whistles::rate(c, &s, body.score, body.comment, p.accountable_user(), now)
                        .await?
                        .ok_or_else(|| ApiError::new(Code::Conflict, "already rated"))?;
                summons_detail(&st, c, &p, rated).await
            })
        })
        .await?;
    let version = view.summons.version;
    Ok(ok_with_etag(&view, version))
}

/// The period of the figures.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct KpiQuery {
    /// Start (inclusive).
    pub from: DateTime<Utc>,
    /// End (exclusive); at most 366 days after `from`.
    pub to: DateTime<Utc>,
}

/// A department's figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct DepartmentFigures {
    /// 1 = best on-time rate (ties: faster average report-in).
    pub rank: usize,
    pub department_id: Uuid,
    pub code: String,
    pub name: String,
    pub summoned: i64,
    pub on_time: i64,
    pub late: i64,
    /// Deadline passed, never reported in.
    pub missed: i64,
    /// on_time ÷ summonses whose deadline has passed or that were reported.
    pub on_time_rate: Option<f64>,
    pub avg_report_minutes: Option<f64>,
    pub avg_rating: Option<f64>,
    pub rated: i64,
}

/// A street's figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct StreetFigures {
    /// 1 = lowest whistle rate.
    pub rank: usize,
    pub street_id: Uuid,
    pub name: String,
    pub disputes: i64,
    pub whistles: i64,
    /// whistles ÷ disputes recorded in the period.
    pub whistle_rate: Option<f64>,
}

/// Where settled disputes were settled.
#[derive(Debug, Serialize, ToSchema)]
pub struct LevelShare {
    pub level: String,
    pub settled: i64,
    pub share: Option<f64>,
}

/// The mediation figures of a period.
#[derive(Debug, Serialize, ToSchema)]
pub struct MediationFigures {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub departments: Vec<DepartmentFigures>,
    pub streets: Vec<StreetFigures>,
    /// grid, community, street and centre, in that order.
    pub settled_at: Vec<LevelShare>,
}

fn ratio(a: i64, b: i64) -> Option<f64> {
    #[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
    (b > 0).then(|| ((a as f64 / b as f64) * 10_000.0).round() / 10_000.0)
}

/// Mediation figures and rankings
///
/// For a period and the caller's streets: per department the on-time
/// report-in rate, average report-in time and the streets' ratings (ranked);
/// per street disputes, whistles and the whistle rate (ranked); the share of
/// settled disputes settled at each level.
#[utoipa::path(tag = "mediation", params(KpiQuery), responses((status = 200, body = MediationFigures)))]
#[get("/mediation-kpis")]
pub async fn get_mediation_kpis(
    state: Data<AppState>,
    caller: Caller,
    q: Query<KpiQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    if q.to <= q.from || q.to - q.from > chrono::Duration::days(366) {
        return Err(ApiError::new(
            Code::InvalidParameter,
            "to is after from, at most 366 days later",
        ));
    }
    let now = state.clock.now();
    let (from, to) = (q.from, q.to);
    let (deps, streets, levels) = state
        .run(caller, move |c, p| {
            Box::pin(async move {
                p.require_anywhere(Action::MediationKpis)?;
                let deps = kpis::departments(c, from, to, now).await?;
                let mut streets = kpis::streets(c, from, to).await?;
                streets.retain(|s| {
                    p.can(
                        Action::MediationKpis,
                        &Target::street(p.district_id, s.street_id),
                    )
                });
                let levels = kpis::settled_levels(c, from, to).await?;
                Ok((deps, streets, levels))
            })
        })
        .await?;
    let mut departments: Vec<DepartmentFigures> = deps
        .into_iter()
        .map(|d| DepartmentFigures {
            rank: 0,
            on_time_rate: ratio(d.on_time, d.due),
            department_id: d.department_id,
            code: d.code,
            name: d.name,
            summoned: d.summoned,
            on_time: d.on_time,
            late: d.late,
            missed: d.missed,
            avg_report_minutes: d.avg_report_minutes,
            avg_rating: d.avg_rating,
            rated: d.rated,
        })
        .collect();
    departments.sort_by(|a, b| {
        b.on_time_rate
            .unwrap_or(-1.0)
            .total_cmp(&a.on_time_rate.unwrap_or(-1.0))
            .then(
                a.avg_report_minutes
                    .unwrap_or(f64::MAX)
                    .total_cmp(&b.avg_report_minutes.unwrap_or(f64::MAX)),
            )
            .then(a.code.cmp(&b.code))
    });
    for (i, d) in departments.iter_mut().enumerate() {
        d.rank = i + 1;
    }
    let mut streets: Vec<StreetFigures> = streets
        .into_iter()
        .map(|s| StreetFigures {
            rank: 0,
            whistle_rate: ratio(s.whistles, s.disputes),
            street_id: s.street_id,
            name: s.name,
            disputes: s.disputes,
            whistles: s.whistles,
        })
        .collect();
    streets.sort_by(|a, b| {
        a.whistle_rate
            .unwrap_or(0.0)
            .total_cmp(&b.whistle_rate.unwrap_or(0.0))
            .then(a.whistles.cmp(&b.whistles))
            .then(a.name.cmp(&b.name))
    });
    for (i, s) in streets.iter_mut().enumerate() {
        s.rank = i + 1;
    }
    let total: i64 = levels.iter().map(|l| l.settled).sum();
    let settled_at = Level::ALL
        .into_iter()
        .map(|level| {
            let settled = levels
                .iter()
                .find(|l| l.level == level.as_str())
                .map_or(0, |l| l.settled);
            LevelShare {
                level: level.as_str().into(),
                settled,
                share: ratio(settled, total),
            }
        })
        .collect();
    Ok(HttpResponse::Ok().json(MediationFigures {
        from,
        to,
        departments,
        streets,
        settled_at,
    }))
}
