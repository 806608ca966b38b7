//! The use cases of 部门报到: a department's inbox narrowed to what the
//! caller may read, its steps on a summons (the illegal ones refused with
//! the steps allowed now), and the street's rating of its response. They
//! know no HTTP.

use chrono::{DateTime, Utc};
use onegrid_domain::mediation::{SummonsState, SummonsStep, WhistleStatus};
use onegrid_domain::permissions::{Action, area};
use onegrid_store::mediation::whistles::{self, Summons, SummonsFilter};
use onegrid_store::page::{Page, PageRequest};
use onegrid_store::{Conn, Principal};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::http::error::{ApiError, ApiResult, Code};

/// A department's step.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SummonsStepBody {
    pub step: SummonsStep,
    /// What was done (required for `action`).
    pub note: Option<String>,
}

/// A step's own rules: a note of at most 2000 characters, required for `action`.
pub fn check_step(body: &SummonsStepBody) -> ApiResult<()> {
    if body.note.as_ref().is_some_and(|n| n.chars().count() > 2000) {
        return Err(ApiError::field("note", "at most 2000 characters"));
    }
    if body.step == SummonsStep::Action && body.note.as_deref().is_none_or(|n| n.trim().is_empty())
    {
        return Err(ApiError::field("note", "say what was done"));
    }
    Ok(())
}

/// The street's rating of a department's response.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingBody {
    /// 10, 8, 6, 3 or 0.
    pub score: i16,
    pub comment: Option<String>,
}

/// A rating's own rules: a score on the scale, a comment of at most 500 characters.
pub fn check_rating(body: &RatingBody) -> ApiResult<()> {
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
    Ok(())
}

/// A page of the summonses `p` may read matching `filter`. A one-department
/// inbox names its department, so the query walks that department's index
/// instead of every summons.
pub async fn inbox(
    c: &mut Conn,
    p: &Principal,
    mut filter: SummonsFilter,
    page: &PageRequest,
) -> ApiResult<Page<Summons>> {
    filter.area = area(&p.grants, Action::SummonsRead);
    if filter.department_id.is_none()
        && p.department_only()
        && let [only] = p.departments()[..]
    {
        filter.department_id = Some(only);
    }
    Ok(whistles::list_summonses(c, &filter, page).await?)
}

/// Takes `body`'s step on `s` as `p`; of concurrent steps, the one that lost
/// is refused with the steps allowed now.
pub async fn step(
    c: &mut Conn,
    p: &Principal,
    s: Summons,
    body: SummonsStepBody,
    now: DateTime<Utc>,
) -> ApiResult<Summons> {
    if let Some(updated) =
        whistles::step(c, &s, body.step, body.note, p.accountable_user(), now).await?
    {
        return Ok(updated);
    }
    // Re-read: a concurrent step may have moved it.
    let current = whistles::get_summons(c, s.id).await?;
    let mut err = ApiError::new(
        Code::IllegalTransition,
        format!(
            "{} is not allowed while the summons is {}",
            body.step.as_str(),
            current.state
        ),
    );
    err.allowed = SummonsStep::allowed(current.state)
        .into_iter()
        .map(str::to_owned)
        .collect();
    Err(err)
}

/// Rates `s` once, after the department is done or the whistle closed.
pub async fn rate(
    c: &mut Conn,
    p: &Principal,
    s: Summons,
    body: RatingBody,
    now: DateTime<Utc>,
) -> ApiResult<Summons> {
    let w = whistles::get_whistle(c, s.whistle_id).await?;
    if s.state != SummonsState::Done && w.status != WhistleStatus::Closed {
        return Err(ApiError::new(
            Code::Conflict,
            "rate once the department is done or the whistle is closed",
        ));
    }
    whistles::rate(c, &s, body.score, body.comment, p.accountable_user(), now)
        .await?
        .ok_or_else(|| ApiError::new(Code::Conflict, "already rated"))
}
