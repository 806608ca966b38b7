//! Work lists: cases filtered by reach, state and clock, paged and counted.

use chrono::{DateTime, Utc};
use diesel::dsl::{exists, not};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use onegrid_domain::cases::Status;
use onegrid_domain::channels::Channel;
use uuid::Uuid;

use super::Case;
use crate::db::Conn;
use crate::error::StoreResult;
use crate::page::{Page, PageRequest};
use crate::schema::{case_clocks, cases};

/// Where a caller may read cases: any of these streets, communities, grids
/// or departments (the tenant wall applies on top).
#[derive(Debug, Clone, Default)]
pub struct Reach {
    /// Streets the caller reads all of.
    pub streets: Vec<Uuid>,
    /// Communities the caller reads all of.
    pub communities: Vec<Uuid>,
    /// Grids the caller reads.
    pub grids: Vec<Uuid>,
    /// Departments whose assigned cases the caller reads.
    pub departments: Vec<Uuid>,
}

/// Filters of a work list.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    /// The caller's reach; `None` for district-wide readers.
    pub reach: Option<Reach>,
    /// Only cases of this street.
    pub street_id: Option<Uuid>,
    /// Only cases of this community.
    pub community_id: Option<Uuid>,
    /// Only cases of this grid.
    pub grid_id: Option<Uuid>,
    /// Only cases dispatched to this staff member.
    pub assignee_user_id: Option<Uuid>,
    /// Only cases dispatched to this department.
    pub department_id: Option<Uuid>,
    /// Only cases in one of these statuses; empty: any status.
    pub statuses: Vec<Status>,
    /// Only cases that came in through this channel.
    pub channel: Option<Channel>,
    /// Only cases of this category.
    pub category_id: Option<Uuid>,
    /// A running, unpaused clock is past due.
    pub overdue: Option<bool>,
    /// A running, unpaused clock is past its 75 % warning but not yet due.
    pub due_soon: bool,
}

fn filtered(f: &CaseFilter, now: DateTime<Utc>) -> cases::BoxedQuery<'static, diesel::pg::Pg> {
    let mut q = cases::table.into_boxed();
    if let Some(s) = f.street_id {
        q = q.filter(cases::street_id.eq(s));
    }
    if let Some(c) = f.community_id {
        q = q.filter(cases::community_id.eq(c));
    }
    if let Some(g) = f.grid_id {
        q = q.filter(cases::grid_id.eq(g));
    }
    if let Some(r) = &f.reach {
        q = q.filter(
            cases::street_id
                .eq_any(r.streets.clone())
                .or(cases::community_id.eq_any(r.communities.clone()))
                .or(cases::grid_id.eq_any(r.grids.clone()))
                .or(cases::assignee_department_id.eq_any(r.departments.clone())),
        );
    }
    if let Some(u) = f.assignee_user_id {
        q = q.filter(cases::assignee_user_id.eq(u));
    }
    if let Some(d) = f.department_id {
        q = q.filter(cases::assignee_department_id.eq(d));
    }
    if !f.statuses.is_empty() {
        q = q.filter(cases::status.eq_any(f.statuses.clone()));
    }
    if let Some(c) = f.channel {
        q = q.filter(cases::channel.eq(c));
    }
    if let Some(c) = f.category_id {
        q = q.filter(cases::category_id.eq(c));
    }
    let live = || {
        case_clocks::table
            .filter(case_clocks::street_id.eq(cases::street_id))
            .filter(case_clocks::case_id.eq(cases::id))
            .filter(case_clocks::stopped_at.is_null())
            .filter(case_clocks::paused_at.is_null())
    };
    match f.overdue {
        Some(true) => q = q.filter(exists(live().filter(case_clocks::due_at.le(now)))),
        Some(false) => q = q.filter(not(exists(live().filter(case_clocks::due_at.le(now))))),
        None => {}
    }
    if f.due_soon {
        q = q.filter(exists(
            live()
                .filter(case_clocks::warn_75_at.le(now))
                .filter(case_clocks::due_at.gt(now)),
        ));
    }
    q
}

/// A page of cases, newest first.
pub async fn list_cases(
    conn: &mut Conn,
    filter: &CaseFilter,
    page: &PageRequest,
    now: DateTime<Utc>,
) -> StoreResult<Page<Case>> {
    let mut q = filtered(filter, now)
        .select(Case::as_select())
        .order(cases::id.desc())
        .limit(page.fetch_limit());
    if let Some(after) = page.after {
        q = q.filter(cases::id.lt(after));
    }
    Ok(Page::from_rows(q.load(conn).await?, page, |c| c.id))
}

/// How many cases match.
pub async fn count_cases(
    conn: &mut Conn,
    filter: &CaseFilter,
    now: DateTime<Utc>,
) -> StoreResult<i64> {
    Ok(filtered(filter, now).count().get_result(conn).await?)
}
