//! A district's case set-up: its working calendar (holidays and adjusted
//! workdays as data), its SLA clocks per tier, and its category catalogue.

use chrono::{Datelike, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use onegrid_domain::calendar::{Basis, DayKind, OFFICIAL, WorkCalendar};
use onegrid_domain::catalogue::{DEFAULT_CATEGORIES, Milestone, default_milestones};
use onegrid_domain::ledger::FieldDef;
use onegrid_domain::sla::{Budget, Tier, TierPolicy};
use uuid::Uuid;

use crate::db::Conn;
use crate::error::{StoreError, StoreResult};
use crate::schema::{calendar_days, case_categories, sla_tiers};

/// Adds what a district needs to run cases and does not have yet: the
/// official calendars, the default clocks per tier and the default catalogue.
/// Returns how many rows were added.
pub async fn ensure_reference(conn: &mut Conn, district_id: Uuid) -> StoreResult<usize> {
    let days: Vec<_> = OFFICIAL
        .iter()
        .filter_map(|&(y, m, d, kind, name)| {
            Some((
                calendar_days::district_id.eq(district_id),
                calendar_days::day.eq(NaiveDate::from_ymd_opt(y, m, d)?),
                calendar_days::kind.eq(kind.as_str()),
                calendar_days::name.eq(name),
            ))
        })
        .collect();
    let mut added = diesel::insert_into(calendar_days::table)
        .values(days)
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    let tiers: Vec<_> = Tier::ALL
        .iter()
        .map(|t| {
            let p = t.default_policy();
            (
                sla_tiers::district_id.eq(district_id),
                sla_tiers::tier.eq(t.as_str()),
                sla_tiers::response_basis.eq(p.response.basis.as_str()),
                sla_tiers::response_minutes.eq(minutes_i32(p.response.minutes)),
                sla_tiers::resolution_basis.eq(p.resolution.basis.as_str()),
                sla_tiers::resolution_minutes.eq(minutes_i32(p.resolution.minutes)),
            )
        })
        .collect();
    added += diesel::insert_into(sla_tiers::table)
        .values(tiers)
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    let categories: Vec<_> = DEFAULT_CATEGORIES
        .iter()
        .map(|&(code, name, tier)| {
            (
                case_categories::id.eq(Uuid::now_v7()),
                case_categories::district_id.eq(district_id),
                case_categories::code.eq(code),
                case_categories::name.eq(name),
                case_categories::tier.eq(tier.as_str()),
                case_categories::milestones.eq(to_json(&default_milestones(code))),
            )
        })
        .collect();
    added += diesel::insert_into(case_categories::table)
        .values(categories)
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(added)
}

/// Minutes as stored (an i32 column), saturating.
pub(crate) fn minutes_i32(minutes: i64) -> i32 {
    i32::try_from(minutes).unwrap_or(i32::MAX)
}

fn to_json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or_default()
}

/// One listed day of a district's calendar.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = calendar_days)]
pub struct CalendarDay {
    /// The day.
    pub day: NaiveDate,
    /// `holiday` (a weekday off) or `workday` (a weekend day worked, 调休).
    pub kind: String,
    /// What the day is, e.g. `春节调休`, 1 to 50 characters.
    pub name: String,
}

/// The district's working calendar.
pub async fn calendar(conn: &mut Conn, district_id: Uuid) -> StoreResult<WorkCalendar> {
    let rows: Vec<CalendarDay> = calendar_days::table
        .filter(calendar_days::district_id.eq(district_id))
        .select(CalendarDay::as_select())
        .load(conn)
        .await?;
    Ok(WorkCalendar::new(
        rows.into_iter()
            .filter_map(|r| Some((r.day, DayKind::parse(&r.kind)?))),
    ))
}

/// The listed days of one year.
pub async fn calendar_year(
    conn: &mut Conn,
    district_id: Uuid,
    year: i32,
) -> StoreResult<Vec<CalendarDay>> {
    let (first, last) = year_bounds(year)?;
    Ok(calendar_days::table
        .filter(calendar_days::district_id.eq(district_id))
        .filter(calendar_days::day.between(first, last))
        .select(CalendarDay::as_select())
        .order(calendar_days::day)
        .load(conn)
        .await?)
}

fn year_bounds(year: i32) -> StoreResult<(NaiveDate, NaiveDate)> {
    NaiveDate::from_ymd_opt(year, 1, 1)
        .zip(NaiveDate::from_ymd_opt(year, 12, 31))
        .ok_or_else(|| StoreError::Check("calendar_days_year".into()))
}

/// Replaces the listed days of one year (every day must lie in it).
pub async fn replace_calendar_year(
    conn: &mut Conn,
    district_id: Uuid,
    year: i32,
    days: &[(NaiveDate, DayKind, String)],
) -> StoreResult<Vec<CalendarDay>> {
    let (first, last) = year_bounds(year)?;
    if days.iter().any(|(d, _, _)| d.year() != year) {
        return Err(StoreError::Check("calendar_days_year".into()));
    }
    diesel::delete(
        calendar_days::table
            .filter(calendar_days::district_id.eq(district_id))
            .filter(calendar_days::day.between(first, last)),
    )
    .execute(conn)
    .await?;
    let rows: Vec<_> = days
        .iter()
        .map(|(day, kind, name)| {
            (
                calendar_days::district_id.eq(district_id),
                calendar_days::day.eq(*day),
                calendar_days::kind.eq(kind.as_str()),
                calendar_days::name.eq(name.as_str()),
            )
        })
        .collect();
    if !rows.is_empty() {
        diesel::insert_into(calendar_days::table)
            .values(rows)
            .execute(conn)
            .await?;
    }
    calendar_year(conn, district_id, year).await
}

/// A tier's clocks as configured for the district.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sla_tiers)]
pub struct TierRow {
    /// The tier: `emergency`, `utility`, `general` or `complex`.
    pub tier: String,
    /// `calendar` (round the clock) or `working` (working hours only) for the response clock.
    pub response_basis: String,
    /// Minutes allowed to respond (1 to 525,600), counted on `response_basis`.
    pub response_minutes: i32,
    /// `calendar` or `working` for the resolution clock.
    pub resolution_basis: String,
    /// Minutes allowed to resolve (1 to 525,600), counted on `resolution_basis`.
    pub resolution_minutes: i32,
    /// Optimistic-locking version, bumped by every update.
    pub version: i32,
    /// When it was last changed.
    pub updated_at: chrono::DateTime<Utc>,
}

impl TierRow {
    /// The policy; a row the checks let through always parses.
    pub fn policy(&self) -> TierPolicy {
        let budget = |basis: &str, minutes: i32| {
            Budget::new(
                Basis::parse(basis).unwrap_or(Basis::Calendar),
                i64::from(minutes),
            )
        };
        TierPolicy {
            response: budget(&self.response_basis, self.response_minutes),
            resolution: budget(&self.resolution_basis, self.resolution_minutes),
        }
    }
}

/// The district's configured tiers, by tier name.
pub async fn tiers(conn: &mut Conn, district_id: Uuid) -> StoreResult<Vec<TierRow>> {
    Ok(sla_tiers::table
        .filter(sla_tiers::district_id.eq(district_id))
        .select(TierRow::as_select())
        .order(sla_tiers::tier)
        .load(conn)
        .await?)
}

/// The district's policy for `tier` (the guide's default if the row is missing).
pub async fn tier_policy(
    conn: &mut Conn,
    district_id: Uuid,
    tier: Tier,
) -> StoreResult<TierPolicy> {
    let row: Option<TierRow> = sla_tiers::table
        .filter(sla_tiers::district_id.eq(district_id))
        .filter(sla_tiers::tier.eq(tier.as_str()))
        .select(TierRow::as_select())
        .first(conn)
        .await
        .optional()?;
    Ok(row.map_or_else(|| tier.default_policy(), |r| r.policy()))
}

/// Sets a tier's clocks, guarded by the version the caller read.
pub async fn update_tier(
    conn: &mut Conn,
    district_id: Uuid,
    tier: Tier,
    version: i32,
    policy: TierPolicy,
) -> StoreResult<TierRow> {
    let target = sla_tiers::table
        .filter(sla_tiers::district_id.eq(district_id))
        .filter(sla_tiers::tier.eq(tier.as_str()));
    let updated: Option<TierRow> = diesel::update(target.filter(sla_tiers::version.eq(version)))
        .set((
            sla_tiers::response_basis.eq(policy.response.basis.as_str()),
            sla_tiers::response_minutes.eq(minutes_i32(policy.response.minutes)),
            sla_tiers::resolution_basis.eq(policy.resolution.basis.as_str()),
            sla_tiers::resolution_minutes.eq(minutes_i32(policy.resolution.minutes)),
            sla_tiers::version.eq(sla_tiers::version + 1),
            sla_tiers::updated_at.eq(diesel::dsl::now),
        ))
        .returning(TierRow::as_returning())
        .get_result(conn)
        .await
        .optional()?;
    match updated {
        Some(row) => Ok(row),
        None => {
            let current: i32 = target.select(sla_tiers::version).first(conn).await?;
            Err(StoreError::VersionMismatch { current })
        }
    }
}

/// A category of the catalogue.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = case_categories)]
pub struct Category {
    /// The category's id (UUIDv7).
    pub id: Uuid,
    /// The district whose catalogue it is in.
    pub district_id: Uuid,
    /// Its hierarchical code, unique in the district: `01`, `01.02` or `01.02.03`.
    pub code: String,
    /// Its name.
    pub name: String,
    /// Its default tier (a [`Tier`] name).
    pub tier: String,
    /// Extra fields a case of it carries, a JSON array of [`FieldDef`] (`[]` when none).
    pub fields: serde_json::Value,
    /// The basis of its own resolution clock; set exactly when `resolution_minutes` is.
    pub resolution_basis: Option<String>,
    /// Minutes of its own resolution clock (1 to 525,600), overriding the tier's; `None`: the
    /// tier's.
    pub resolution_minutes: Option<i32>,
    /// Staged milestones, each with its own clock, a JSON array of [`Milestone`].
    pub milestones: serde_json::Value,
    /// Whether new cases may be filed under it.
    pub active: bool,
    /// Optimistic-locking version, bumped by every update.
    pub version: i32,
    /// When it was created.
    pub created_at: chrono::DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: chrono::DateTime<Utc>,
}

impl Category {
    /// Its default tier; a value not known reads as `General`.
    pub fn tier(&self) -> Tier {
        Tier::parse(&self.tier).unwrap_or(Tier::General)
    }

    /// The extra fields a case of this category carries.
    pub fn field_defs(&self) -> Vec<FieldDef> {
        serde_json::from_value(self.fields.clone()).unwrap_or_default()
    }

    /// Its staged milestones, in order.
    pub fn milestone_list(&self) -> Vec<Milestone> {
        serde_json::from_value(self.milestones.clone()).unwrap_or_default()
    }

    /// The category's own resolution clock, if it overrides the tier's.
    pub fn resolution(&self) -> Option<Budget> {
        let basis = Basis::parse(self.resolution_basis.as_deref()?)?;
        Some(Budget::new(basis, i64::from(self.resolution_minutes?)))
    }
}

/// The values of a category; `None` fields of an update stay as they are.
#[derive(Debug, Clone, Default)]
pub struct CategoryValues {
    /// The hierarchical code (`01`, `01.02` or `01.02.03`).
    pub code: Option<String>,
    /// The name.
    pub name: Option<String>,
    /// The default tier.
    pub tier: Option<Tier>,
    /// Extra fields of its cases.
    pub fields: Option<Vec<FieldDef>>,
    /// `Some(None)` clears the override.
    pub resolution: Option<Option<Budget>>,
    /// Staged milestones.
    pub milestones: Option<Vec<Milestone>>,
    /// Whether new cases may be filed under it.
    pub active: Option<bool>,
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = case_categories)]
struct CategoryChanges {
    code: Option<String>,
    name: Option<String>,
    tier: Option<String>,
    fields: Option<serde_json::Value>,
    resolution_basis: Option<Option<String>>,
    resolution_minutes: Option<Option<i32>>,
    milestones: Option<serde_json::Value>,
    active: Option<bool>,
}

impl From<CategoryValues> for CategoryChanges {
    fn from(v: CategoryValues) -> Self {
        CategoryChanges {
            code: v.code,
            name: v.name,
            tier: v.tier.map(|t| t.as_str().to_owned()),
            fields: v.fields.as_ref().map(to_json),
            resolution_basis: v.resolution.map(|r| r.map(|b| b.basis.as_str().to_owned())),
            resolution_minutes: v.resolution.map(|r| r.map(|b| minutes_i32(b.minutes))),
            milestones: v.milestones.as_ref().map(to_json),
            active: v.active,
        }
    }
}

/// The district's catalogue, by code.
pub async fn list_categories(conn: &mut Conn) -> StoreResult<Vec<Category>> {
    Ok(case_categories::table
        .select(Category::as_select())
        .order(case_categories::code)
        .load(conn)
        .await?)
}

/// One category of the caller's district.
pub async fn get_category(conn: &mut Conn, id: Uuid) -> StoreResult<Category> {
    Ok(case_categories::table
        .find(id)
        .select(Category::as_select())
        .first(conn)
        .await?)
}

/// Whether the district's catalogue has `code`.
pub async fn category_code_exists(
    conn: &mut Conn,
    district_id: Uuid,
    code: &str,
) -> StoreResult<bool> {
    let n: i64 = case_categories::table
        .filter(case_categories::district_id.eq(district_id))
        .filter(case_categories::code.eq(code))
        .count()
        .get_result(conn)
        .await?;
    Ok(n > 0)
}

/// Adds a category; `values.code`, `name` and `tier` are required.
pub async fn create_category(
    conn: &mut Conn,
    district_id: Uuid,
    values: CategoryValues,
) -> StoreResult<Category> {
    let changes = CategoryChanges::from(values);
    Ok(diesel::insert_into(case_categories::table)
        .values((
            case_categories::id.eq(Uuid::now_v7()),
            case_categories::district_id.eq(district_id),
            case_categories::code.eq(changes.code.unwrap_or_default()),
            case_categories::name.eq(changes.name.unwrap_or_default()),
            case_categories::tier.eq(changes.tier.unwrap_or_default()),
            case_categories::fields.eq(changes.fields.unwrap_or_else(|| serde_json::json!([]))),
            case_categories::resolution_basis.eq(changes.resolution_basis.flatten()),
            case_categories::resolution_minutes.eq(changes.resolution_minutes.flatten()),
            case_categories::milestones
                .eq(changes.milestones.unwrap_or_else(|| serde_json::json!([]))),
        ))
        .returning(Category::as_returning())
        .get_result(conn)
        .await?)
}

/// Edits a category, guarded by the version the caller read.
pub async fn update_category(
    conn: &mut Conn,
    id: Uuid,
    version: i32,
    values: CategoryValues,
) -> StoreResult<Category> {
    let updated: Option<Category> = diesel::update(
        case_categories::table
            .find(id)
            .filter(case_categories::version.eq(version)),
    )
    .set((
        CategoryChanges::from(values),
        case_categories::version.eq(case_categories::version + 1),
        case_categories::updated_at.eq(diesel::dsl::now),
    ))
    .returning(Category::as_returning())
    .get_result(conn)
    .await
    .optional()?;
    match updated {
        Some(c) => Ok(c),
        None => {
            let current = get_category(conn, id).await?.version;
            Err(StoreError::VersionMismatch { current })
        }
    }
}
