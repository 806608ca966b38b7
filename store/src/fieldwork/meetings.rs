//! The half-monthly resident needs meeting (居民问需会): a schedule per
//! community fires ahead of each meeting; the worker then creates the
//! meeting (once per instant), compiles its agenda - needs nobody owns yet,
//! patrol findings not yet tracked, cases open too long, and every item the
//! previous meeting created, for report-back - and reminds the invited
//! staff. At the meeting each decision becomes a service item: a case with
//! an owner and a due date, reported back at the next meeting.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use onegrid_domain::cases::{Kind, Status};
use onegrid_domain::meetings::MeetingStatus;
use onegrid_domain::permissions::{Role, ScopeKind};
use uuid::Uuid;

use crate::db::Conn;
use crate::error::StoreResult;
use crate::schema::{
    meeting_agenda_items, meeting_attendees, meeting_items, member_units, needs_meetings,
    notifications, report_back_ratings,
};
use crate::sql::names;

/// Open cases older than this at the meeting go on its agenda.
pub const OVERDUE_DAYS: i64 = 15;

/// The schedule key of a community's needs meeting.
pub fn schedule_key(community: Uuid) -> String {
    format!("needs_meeting:{community}")
}

/// A resident needs meeting (居民问需会) of a community.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = needs_meetings)]
pub struct Meeting {
    /// The community's street.
    pub street_id: Uuid,
    /// The meeting's id (UUIDv7).
    pub id: Uuid,
    /// The district.
    pub district_id: Uuid,
    /// The community holding it.
    pub community_id: Uuid,
    /// When it is held: the schedule's fire instant (one meeting per community and instant).
    pub scheduled_for: DateTime<Utc>,
    /// Planned, held or closed.
    pub status: MeetingStatus,
    /// The community's meeting before it, whose items this one reports back; `None` for the
    /// first.
    pub previous_id: Option<Uuid>,
    /// The minutes, up to 20,000 characters, once recorded.
    pub minutes: Option<String>,
    /// When it was held; `None` while planned.
    pub held_at: Option<DateTime<Utc>>,
    /// When it was closed; `None` until then.
    pub closed_at: Option<DateTime<Utc>>,
    /// Optimistic-locking version, bumped by every change.
    pub version: i32,
    /// When the worker created it.
    pub created_at: DateTime<Utc>,
}

/// One item of a meeting's agenda, compiled by the worker before the meeting.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = meeting_agenda_items)]
pub struct AgendaItem {
    /// The meeting's street.
    pub street_id: Uuid,
    /// The meeting.
    pub meeting_id: Uuid,
    /// Its place on the agenda, from 1: report-backs first, then unowned needs, untracked
    /// findings and overdue cases.
    pub seq: i32,
    /// `report_back`, `unowned_need`, `untracked_finding` or `overdue_case`.
    pub kind: String,
    /// The case it is about; exactly one of `case_id` and `finding_id` is set.
    pub case_id: Option<Uuid>,
    /// The patrol finding it is about; exactly one of `case_id` and `finding_id` is set.
    pub finding_id: Option<Uuid>,
    /// The case's title or the finding's description, as compiled.
    pub title: String,
}

/// A service item (项目服务清单): a meeting's decision, filed as a case with an owner.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = meeting_items)]
pub struct Item {
    /// The meeting's street.
    pub street_id: Uuid,
    /// The meeting that decided it.
    pub meeting_id: Uuid,
    /// The case filed for it (one item per case).
    pub case_id: Uuid,
    /// The staff member who owns it.
    pub owner_id: Uuid,
    /// The day it is due; the next meeting reports it back.
    pub due_on: NaiveDate,
}

/// Someone who came to a meeting.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = meeting_attendees)]
pub struct Attendee {
    /// The meeting's street.
    pub street_id: Uuid,
    /// The attendee's id (UUIDv7).
    pub id: Uuid,
    /// The meeting.
    pub meeting_id: Uuid,
    /// `member_unit`, `department`, `volunteer`, `resident_rep` or `staff`.
    pub kind: String,
    /// Their name, 1 to 100 characters.
    pub name: String,
    /// The member unit they came for; only for kind `member_unit`.
    pub member_unit_id: Option<Uuid>,
}

/// A member unit of the community's joint party committee (联合党委).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = member_units)]
pub struct MemberUnit {
    /// The community's street.
    pub street_id: Uuid,
    /// The unit's id (UUIDv7).
    pub id: Uuid,
    /// The community whose committee it sits on.
    pub community_id: Uuid,
    /// Its name, unique in the community (1 to 100 characters).
    pub name: String,
    /// `enterprise`, `institution`, `social_org`, `party_org` or `other`.
    pub kind: String,
    /// Its contact person's name, up to 50 characters, if given.
    pub contact_name: Option<String>,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
}

/// Registers a member unit of a community.
pub async fn add_member_unit(
    conn: &mut Conn,
    street: Uuid,
    community: Uuid,
    name: String,
    kind: &'static str,
    contact_name: Option<String>,
    at: DateTime<Utc>,
) -> StoreResult<MemberUnit> {
    Ok(diesel::insert_into(member_units::table)
        .values((
            member_units::street_id.eq(street),
            member_units::id.eq(Uuid::now_v7()),
            member_units::community_id.eq(community),
            member_units::name.eq(name),
            member_units::kind.eq(kind),
            member_units::contact_name.eq(contact_name),
            member_units::created_at.eq(at),
        ))
        .returning(MemberUnit::as_returning())
        .get_result(conn)
        .await?)
}

/// A community's member units, by name.
pub async fn member_units(conn: &mut Conn, community: Uuid) -> StoreResult<Vec<MemberUnit>> {
    Ok(member_units::table
        .filter(member_units::community_id.eq(community))
        .select(MemberUnit::as_select())
        .order(member_units::name)
        .load(conn)
        .await?)
}

/// Records an attendee's rating of a reported-back item; false if that
/// attendee already rated it at this meeting.
pub async fn rate_item(
    conn: &mut Conn,
    m: &Meeting,
    case_id: Uuid,
    rater: String,
    score: i16,
    at: DateTime<Utc>,
) -> StoreResult<bool> {
    let n = diesel::insert_into(report_back_ratings::table)
        .values((
            report_back_ratings::street_id.eq(m.street_id),
            report_back_ratings::id.eq(Uuid::now_v7()),
            report_back_ratings::meeting_id.eq(m.id),
            report_back_ratings::case_id.eq(case_id),
            report_back_ratings::rater.eq(rater),
            report_back_ratings::score.eq(score),
            report_back_ratings::at.eq(at),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(n == 1)
}

/// The ratings of a meeting's reported-back items: (case, scores).
pub async fn ratings(conn: &mut Conn, m: &Meeting) -> StoreResult<Vec<(Uuid, i16)>> {
    Ok(report_back_ratings::table
        .filter(report_back_ratings::street_id.eq(m.street_id))
        .filter(report_back_ratings::meeting_id.eq(m.id))
        .select((report_back_ratings::case_id, report_back_ratings::score))
        .order(report_back_ratings::id)
        .load(conn)
        .await?)
}

#[derive(QueryableByName)]
struct Source {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<SqlUuid>)]
    case_id: Option<Uuid>,
    #[diesel(sql_type = diesel::sql_types::Nullable<SqlUuid>)]
    finding_id: Option<Uuid>,
    #[diesel(sql_type = Text)]
    title: String,
}

/// Creates the community's meeting for `scheduled_for` with its agenda and
/// reminds the invited staff (worker, scoped to the street). Exactly once
/// per instant: a second call finds the meeting and does nothing (`None`).
pub async fn prepare(
    conn: &mut Conn,
    district: Uuid,
    street: Uuid,
    community: Uuid,
    scheduled_for: DateTime<Utc>,
    now: DateTime<Utc>,
) -> StoreResult<Option<Meeting>> {
    let previous: Option<Meeting> = needs_meetings::table
        .filter(needs_meetings::street_id.eq(street))
        .filter(needs_meetings::community_id.eq(community))
        .filter(needs_meetings::scheduled_for.lt(scheduled_for))
        .order(needs_meetings::scheduled_for.desc())
        .select(Meeting::as_select())
        .first(conn)
        .await
        .optional()?;
    let created: Option<Meeting> = diesel::insert_into(needs_meetings::table)
        .values((
            needs_meetings::street_id.eq(street),
            needs_meetings::id.eq(Uuid::now_v7()),
            needs_meetings::district_id.eq(district),
            needs_meetings::community_id.eq(community),
            needs_meetings::scheduled_for.eq(scheduled_for),
            needs_meetings::status.eq(MeetingStatus::Planned),
            needs_meetings::previous_id.eq(previous.as_ref().map(|m| m.id)),
            needs_meetings::created_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .returning(Meeting::as_returning())
        .get_result(conn)
        .await
        .optional()?;
    let Some(meeting) = created else {
        return Ok(None);
    };
    let sources: Vec<Source> = diesel::sql_query(format!(
        "SELECT kind, case_id, finding_id, title FROM (
            SELECT 1 AS o, 'report_back' AS kind, i.case_id, NULL::uuid AS finding_id, c.title, c.id AS k
            FROM meeting_items i JOIN cases c ON c.street_id = i.street_id AND c.id = i.case_id
            WHERE i.street_id = $1 AND i.meeting_id = $4
          UNION ALL
            SELECT 2, 'unowned_need', c.id, NULL, c.title, c.id FROM cases c
            WHERE c.street_id = $1 AND c.community_id = $2 AND c.kind = {case}
              AND c.status IN ({unowned})
              AND c.assignee_user_id IS NULL AND c.assignee_department_id IS NULL
              AND NOT EXISTS (SELECT 1 FROM meeting_items i
                  WHERE i.street_id = c.street_id AND i.case_id = c.id AND i.meeting_id = $4)
          UNION ALL
            SELECT 3, 'untracked_finding', NULL, f.id, f.description, f.id
            FROM patrol_findings f JOIN patrol_logs l ON l.street_id = f.street_id AND l.id = f.log_id
            WHERE f.street_id = $1 AND l.community_id = $2 AND f.case_id IS NULL
          UNION ALL
            SELECT 4, 'overdue_case', c.id, NULL, c.title, c.id FROM cases c
            WHERE c.street_id = $1 AND c.community_id = $2 AND c.kind = {case}
              AND c.status NOT IN ({not_worked})
              AND c.created_at < $3
              AND NOT EXISTS (SELECT 1 FROM meeting_items i
                  WHERE i.street_id = c.street_id AND i.case_id = c.id AND i.meeting_id = $4)
         ) s ORDER BY o, k",
        case = names(&[Kind::Case.as_str()]),
        unowned = names(&[Status::Received.as_str(), Status::Accepted.as_str()]),
        not_worked = names(&[
            Status::Received.as_str(),
            Status::Accepted.as_str(),
            Status::Resolved.as_str(),
            Status::Closed.as_str(),
            Status::Rejected.as_str(),
        ]),
    ))
    .bind::<SqlUuid, _>(street)
    .bind::<SqlUuid, _>(community)
    .bind::<Timestamptz, _>(scheduled_for - Duration::days(OVERDUE_DAYS))
    .bind::<SqlUuid, _>(previous.map_or(Uuid::nil(), |m| m.id))
    .load(conn)
    .await?;
    let rows: Vec<_> = sources
        .into_iter()
        .zip(1_i32..)
        .map(|(s, seq)| {
            (
                meeting_agenda_items::street_id.eq(street),
                meeting_agenda_items::meeting_id.eq(meeting.id),
                meeting_agenda_items::seq.eq(seq),
                meeting_agenda_items::kind.eq(s.kind),
                meeting_agenda_items::case_id.eq(s.case_id),
                meeting_agenda_items::finding_id.eq(s.finding_id),
                meeting_agenda_items::title.eq(s.title),
            )
        })
        .collect();
    if !rows.is_empty() {
        diesel::insert_into(meeting_agenda_items::table)
            .values(rows)
            .execute(conn)
            .await?;
    }
    remind(conn, &meeting, now).await?;
    Ok(Some(meeting))
}

/// Tells the community's admins, grid chiefs and grid staff (full-time,
/// part-time, department) that the meeting and its agenda are ready.
async fn remind(conn: &mut Conn, m: &Meeting, now: DateTime<Utc>) -> StoreResult<usize> {
    #[derive(QueryableByName)]
    struct User {
        #[diesel(sql_type = SqlUuid)]
        id: Uuid,
    }
    let today = onegrid_domain::clock::china_date(now);
    let invited: Vec<User> = diesel::sql_query(format!(
        "SELECT DISTINCT user_id AS id FROM (
            SELECT r.user_id FROM role_assignments r
            WHERE r.scope_kind = {community} AND r.community_id = $2
              AND r.role IN ({leads})
              AND r.valid_from <= $3 AND (r.valid_to IS NULL OR r.valid_to >= $3)
          UNION
            SELECT a.user_id FROM grid_assignments a
            JOIN grids g ON g.street_id = a.street_id AND g.id = a.grid_id
            WHERE a.street_id = $1 AND g.community_id = $2
              AND a.valid_from <= $3 AND (a.valid_to IS NULL OR a.valid_to >= $3)
         ) u ORDER BY 1",
        community = names(&[ScopeKind::Community.as_str()]),
        leads = names(&[Role::CommunityAdmin.as_str(), Role::GridChief.as_str()]),
    ))
    .bind::<SqlUuid, _>(m.street_id)
    .bind::<SqlUuid, _>(m.community_id)
    .bind::<diesel::sql_types::Date, _>(today)
    .load(conn)
    .await?;
    let when = onegrid_domain::clock::china_date(m.scheduled_for);
    let rows: Vec<_> = invited
        .iter()
        .map(|u| {
            (
                notifications::id.eq(Uuid::now_v7()),
                notifications::user_id.eq(u.id),
                notifications::district_id.eq(m.district_id),
                notifications::street_id.eq(Some(m.street_id)),
                notifications::kind.eq("meeting.invited"),
                notifications::title.eq(format!("居民问需会：{when}，议程已生成")),
                notifications::body.eq(serde_json::json!({
                    "meeting_id": m.id, "community_id": m.community_id,
                    "scheduled_for": m.scheduled_for,
                })),
                notifications::created_at.eq(now),
            )
        })
        .collect();
    if rows.is_empty() {
        return Ok(0);
    }
    Ok(diesel::insert_into(notifications::table)
        .values(rows)
        .execute(conn)
        .await?)
}

/// One meeting visible to the caller.
pub async fn get(conn: &mut Conn, id: Uuid) -> StoreResult<Meeting> {
    Ok(needs_meetings::table
        .filter(needs_meetings::id.eq(id))
        .select(Meeting::as_select())
        .first(conn)
        .await?)
}

/// A community's meetings, newest first.
pub async fn list(conn: &mut Conn, community: Uuid, limit: i64) -> StoreResult<Vec<Meeting>> {
    Ok(needs_meetings::table
        .filter(needs_meetings::community_id.eq(community))
        .select(Meeting::as_select())
        .order(needs_meetings::scheduled_for.desc())
        .limit(limit)
        .load(conn)
        .await?)
}

/// A meeting's agenda, in order.
pub async fn agenda(conn: &mut Conn, m: &Meeting) -> StoreResult<Vec<AgendaItem>> {
    Ok(meeting_agenda_items::table
        .filter(meeting_agenda_items::street_id.eq(m.street_id))
        .filter(meeting_agenda_items::meeting_id.eq(m.id))
        .select(AgendaItem::as_select())
        .order(meeting_agenda_items::seq)
        .load(conn)
        .await?)
}

/// The service items a meeting decided.
pub async fn items(conn: &mut Conn, m: &Meeting) -> StoreResult<Vec<Item>> {
    Ok(meeting_items::table
        .filter(meeting_items::street_id.eq(m.street_id))
        .filter(meeting_items::meeting_id.eq(m.id))
        .select(Item::as_select())
        .order(meeting_items::case_id)
        .load(conn)
        .await?)
}

/// Who came to a meeting.
pub async fn attendees(conn: &mut Conn, m: &Meeting) -> StoreResult<Vec<Attendee>> {
    Ok(meeting_attendees::table
        .filter(meeting_attendees::street_id.eq(m.street_id))
        .filter(meeting_attendees::meeting_id.eq(m.id))
        .select(Attendee::as_select())
        .order(meeting_attendees::id)
        .load(conn)
        .await?)
}

/// Records a decision's service item: the case it filed, its owner and due date.
pub async fn add_item(
    conn: &mut Conn,
    m: &Meeting,
    case_id: Uuid,
    owner: Uuid,
    due_on: NaiveDate,
) -> StoreResult<Item> {
    Ok(diesel::insert_into(meeting_items::table)
        .values((
            meeting_items::street_id.eq(m.street_id),
            meeting_items::meeting_id.eq(m.id),
            meeting_items::case_id.eq(case_id),
            meeting_items::owner_id.eq(owner),
            meeting_items::due_on.eq(due_on),
        ))
        .returning(Item::as_returning())
        .get_result(conn)
        .await?)
}

/// Closes a planned or held meeting at `version` with its minutes and
/// attendance; `None` if the version moved or it is closed.
pub async fn close(
    conn: &mut Conn,
    m: &Meeting,
    version: i32,
    minutes: String,
    attendance: Vec<(&'static str, String, Option<Uuid>)>,
    at: DateTime<Utc>,
) -> StoreResult<Option<Meeting>> {
    let closed: Option<Meeting> = diesel::update(
        needs_meetings::table
            .filter(needs_meetings::street_id.eq(m.street_id))
            .filter(needs_meetings::id.eq(m.id))
            .filter(needs_meetings::version.eq(version))
            .filter(needs_meetings::status.ne(MeetingStatus::Closed)),
    )
    .set((
        needs_meetings::status.eq(MeetingStatus::Closed),
        needs_meetings::minutes.eq(Some(minutes)),
        needs_meetings::held_at.eq(m.held_at.or(Some(at))),
        needs_meetings::closed_at.eq(Some(at)),
        needs_meetings::version.eq(needs_meetings::version + 1),
    ))
    .returning(Meeting::as_returning())
    .get_result(conn)
    .await
    .optional()?;
    if closed.is_some() && !attendance.is_empty() {
        let rows: Vec<_> = attendance
            .into_iter()
            .map(|(kind, name, unit)| {
                (
                    meeting_attendees::street_id.eq(m.street_id),
                    meeting_attendees::id.eq(Uuid::now_v7()),
                    meeting_attendees::meeting_id.eq(m.id),
                    meeting_attendees::kind.eq(kind),
                    meeting_attendees::name.eq(name),
                    meeting_attendees::member_unit_id.eq(unit),
                )
            })
            .collect();
        diesel::insert_into(meeting_attendees::table)
            .values(rows)
            .execute(conn)
            .await?;
    }
    Ok(closed)
}

/// The meeting whose items include `case_id`, and the next meeting of the
/// community after it (which reports it back), if any.
pub async fn loop_of(
    conn: &mut Conn,
    case_id: Uuid,
) -> StoreResult<Option<(Item, Option<Meeting>)>> {
    let item: Option<Item> = meeting_items::table
        .filter(meeting_items::case_id.eq(case_id))
        .select(Item::as_select())
        .first(conn)
        .await
        .optional()?;
    let Some(item) = item else {
        return Ok(None);
    };
    let next: Option<Meeting> = needs_meetings::table
        .filter(needs_meetings::street_id.eq(item.street_id))
        .filter(needs_meetings::previous_id.eq(item.meeting_id))
        .select(Meeting::as_select())
        .first(conn)
        .await
        .optional()?;
    Ok(Some((item, next)))
}
