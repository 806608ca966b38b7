//! 部门报到: a department's summonses, their steps (report in, on site,
//! actions, done) and the street's rating.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use onegrid_domain::mediation::{SummonsState, SummonsStep};
use onegrid_domain::permissions::Area;
use uuid::Uuid;

use super::{Action, Summons, log, summons_payload};
use crate::db::Conn;
use crate::error::StoreResult;
use crate::page::{Page, PageRequest};
use crate::schema::{summons_actions, summonses};

/// One summons visible to the caller.
pub async fn get_summons(conn: &mut Conn, id: Uuid) -> StoreResult<Summons> {
    Ok(summonses::table
        .filter(summonses::id.eq(id))
        .select(Summons::as_select())
        .first(conn)
        .await?)
}

/// Filters of the summons list (a department's inbox).
#[derive(Debug, Clone, Default)]
pub struct SummonsFilter {
    /// Where the caller may read summonses: its streets, or its departments'.
    pub area: Area,
    /// Only summonses in this state.
    pub state: Option<SummonsState>,
    /// Only summonses of this department.
    pub department_id: Option<Uuid>,
    /// Only those marked overdue (`true`) or not (`false`).
    pub overdue: Option<bool>,
}

/// Summonses visible to the caller (department staff: their departments',
/// across the district), newest first (by id, time-ordered).
pub async fn list_summonses(
    conn: &mut Conn,
    f: &SummonsFilter,
    page: &PageRequest,
) -> StoreResult<Page<Summons>> {
    let mut q = summonses::table
        .select(Summons::as_select())
        .order(summonses::id.desc())
        .limit(page.fetch_limit())
        .into_boxed();
    if !f.area.everywhere {
        q = q.filter(
            summonses::street_id
                .eq_any(f.area.streets.clone())
                .or(summonses::department_id.eq_any(f.area.departments.clone())),
        );
    }
    if let Some(s) = f.state {
        q = q.filter(summonses::state.eq(s));
    }
    if let Some(d) = f.department_id {
        q = q.filter(summonses::department_id.eq(d));
    }
    match f.overdue {
        Some(true) => q = q.filter(summonses::overdue_at.is_not_null()),
        Some(false) => q = q.filter(summonses::overdue_at.is_null()),
        None => {}
    }
    if let Some(after) = page.after {
        q = q.filter(summonses::id.lt(after));
    }
    Ok(Page::from_rows(q.load(conn).await?, page, |s| s.id))
}

/// The log of a summons, oldest first.
pub async fn actions(conn: &mut Conn, s: &Summons) -> StoreResult<Vec<Action>> {
    Ok(summons_actions::table
        .filter(summons_actions::street_id.eq(s.street_id))
        .filter(summons_actions::summons_id.eq(s.id))
        .select(Action::as_select())
        .order(summons_actions::id)
        .load(conn)
        .await?)
}

/// Takes a department's step on a summons. The update is guarded on the
/// state the step starts from, so of two concurrent report-ins exactly one
/// wins; `None`: the step is not allowed from the current state.
pub async fn step(
    conn: &mut Conn,
    s: &Summons,
    step: SummonsStep,
    note: Option<String>,
    actor: Uuid,
    at: DateTime<Utc>,
) -> StoreResult<Option<Summons>> {
    let from = s.state;
    let Some(to) = step.apply(from) else {
        return Ok(None);
    };
    let target = summonses::table
        .filter(summonses::street_id.eq(s.street_id))
        .filter(summonses::id.eq(s.id))
        .filter(summonses::state.eq(from));
    let bump = (
        summonses::state.eq(to),
        summonses::version.eq(summonses::version + 1),
    );
    let updated: Option<Summons> = match step {
        SummonsStep::ReportIn => {
            diesel::update(target)
                .set((
                    bump,
                    summonses::reported_at.eq(Some(at)),
                    summonses::reported_by.eq(Some(actor)),
                ))
                .returning(Summons::as_returning())
                .get_result(conn)
                .await
        }
        SummonsStep::OnSite => {
            diesel::update(target)
                .set((bump, summonses::on_site_at.eq(Some(at))))
                .returning(Summons::as_returning())
                .get_result(conn)
                .await
        }
        SummonsStep::Done => {
            diesel::update(target)
                .set((bump, summonses::done_at.eq(Some(at))))
                .returning(Summons::as_returning())
                .get_result(conn)
                .await
        }
        SummonsStep::Action => {
            diesel::update(target)
                .set(bump)
                .returning(Summons::as_returning())
                .get_result(conn)
                .await
        }
    }
    .optional()?;
    let Some(updated) = updated else {
        return Ok(None);
    };
    log(conn, &updated, step.as_str(), note, actor, at).await?;
    if step == SummonsStep::ReportIn {
        crate::integrations::webhooks::emit(
            conn,
            updated.district_id,
            updated.street_id,
            "mediation.reported_in",
            summons_payload(&updated),
            at,
        )
        .await?;
    }
    Ok(Some(updated))
}

/// The street's rating of a department's response (once; 10/8/6/3/0).
pub async fn rate(
    conn: &mut Conn,
    s: &Summons,
    score: i16,
    comment: Option<String>,
    by: Uuid,
    at: DateTime<Utc>,
) -> StoreResult<Option<Summons>> {
    let updated: Option<Summons> = diesel::update(
        summonses::table
            .filter(summonses::street_id.eq(s.street_id))
            .filter(summonses::id.eq(s.id))
            .filter(summonses::rated_at.is_null()),
    )
    .set((
        summonses::rating.eq(Some(score)),
        summonses::rating_comment.eq(comment.clone()),
        summonses::rated_by.eq(Some(by)),
        summonses::rated_at.eq(Some(at)),
        summonses::version.eq(summonses::version + 1),
    ))
    .returning(Summons::as_returning())
    .get_result(conn)
    .await
    .optional()?;
    if let Some(u) = &updated {
        log(conn, u, "rated", comment, by, at).await?;
    }
    Ok(updated)
}
