//! Runs validated targeting queries as one SQL statement over ledger records,
//! joined to the resident for derived attributes, with EXISTS / NOT EXISTS
//! for the other ledgers. Every value is a bound parameter. Queries saved for
//! reuse are kept here too.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::QueryableByName;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::sql_types::{Array, Date, Text};
use diesel_async::RunQueryDsl;
use onegrid_domain::ledger::{FieldType, RecordStatus, Subject};
use onegrid_domain::query::{Checked, Op, Operand};
use serde_json::Value;
use uuid::Uuid;

use crate::db::Conn;
use crate::error::{StoreError, StoreResult};
use crate::ledgers::LedgerRecord;
use crate::page::{Page, PageRequest};
use crate::sql::names;

/// Another ledger the subject must (not) be on.
#[derive(Debug, Clone)]
pub struct Cross {
    /// The other ledger type.
    pub ledger_type_id: Uuid,
    /// Whom its records are about (residents or households, to link them to the main ledger's).
    pub subject: Subject,
    /// `true`: the subject must have a matching active record there; `false`: must not.
    pub present: bool,
    /// Conditions that record must meet (all of them).
    pub conditions: Vec<Checked>,
}

/// A query ready to run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The ledger type whose active records are listed.
    pub ledger_type_id: Uuid,
    /// Whom its records are about; decides how other ledgers link to them.
    pub subject: Subject,
    /// Conditions every listed record meets (all of them).
    pub conditions: Vec<Checked>,
    /// Other ledgers the record's subject must, or must not, be on.
    pub also: Vec<Cross>,
    /// The grids the caller may read; `None` = all in scope.
    pub grids: Option<Vec<Uuid>>,
    /// Only records in this community's grids.
    pub community_id: Option<Uuid>,
    /// Only records in this grid.
    pub grid_id: Option<Uuid>,
    /// The day ages are computed on (China's calendar day).
    pub today: NaiveDate,
}

/// A statement under construction: SQL text with numbered placeholders and
/// their bound values.
struct Q<'a> {
    query: BoxedSqlQuery<'a, Pg, SqlQuery>,
    next: usize,
}

impl<'a> Q<'a> {
    fn sql(mut self, text: impl AsRef<str>) -> Self {
        self.query = self.query.sql(text.as_ref());
        self
    }

    /// Appends `$n` and binds `value` to it.
    fn bind<T, V>(mut self, value: V) -> Self
    where
        Pg: diesel::sql_types::HasSqlType<T>,
        V: diesel::serialize::ToSql<T, Pg> + Send + 'a,
        T: Send + 'a,
    {
        self.query = self
            .query
            .sql(format!("${}", self.next))
            .bind::<T, V>(value);
        self.next += 1;
        self
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The SQL type a field's JSON text is cast to for comparison.
fn cast(field_type: FieldType) -> &'static str {
    match field_type {
        FieldType::Number => "numeric",
        FieldType::Date => "date",
        FieldType::Boolean => "boolean",
        _ => "text",
    }
}

fn push_lhs<'a>(q: Q<'a>, alias: &str, operand: &Operand, today: NaiveDate) -> Q<'a> {
    match operand {
        Operand::Field { key, field_type } => q
            .sql(format!("(({alias}.data->>"))
            .bind::<Text, _>(key.clone())
            .sql(format!(")::{})", cast(*field_type))),
        Operand::Age => q
            .sql("date_part('year', age(")
            .bind::<Date, _>(today)
            .sql(", p.birth_date))"),
        Operand::Gender => q.sql("p.gender"),
    }
}

fn rhs_cast(operand: &Operand) -> &'static str {
    match operand {
        Operand::Field { field_type, .. } => cast(*field_type),
        Operand::Age => "numeric",
        Operand::Gender => "text",
    }
}

fn push_condition<'a>(q: Q<'a>, alias: &str, c: &Checked, today: NaiveDate) -> Q<'a> {
    let q = q.sql(" AND ");
    match (c.op, &c.operand) {
        (Op::IsSet | Op::NotSet, operand) => {
            let not = if c.op == Op::NotSet { "NOT " } else { "" };
            match operand {
                Operand::Field { key, .. } => q
                    .sql(format!("{not}jsonb_exists({alias}.data, "))
                    .bind::<Text, _>(key.clone())
                    .sql(")"),
                Operand::Age => q.sql(format!("{not}(p.birth_date IS NOT NULL)")),
                Operand::Gender => q.sql(format!("{not}(p.gender IS NOT NULL)")),
            }
        }
        (Op::Contains, Operand::Field { key, .. }) => q
            .sql(format!("jsonb_exists({alias}.data->"))
            .bind::<Text, _>(key.clone())
            .sql(", ")
            .bind::<Text, _>(text(&c.value))
            .sql(")"),
        (Op::In, operand) => {
            let values: Vec<String> = c
                .value
                .as_array()
                .map(|a| a.iter().map(text).collect())
                .unwrap_or_default();
            push_lhs(q, alias, operand, today)
                .sql(" = ANY (")
                .bind::<Array<Text>, _>(values)
                .sql(format!("::{}[])", rhs_cast(operand)))
        }
        (op, operand) => {
            let sql_op = match op {
                Op::Eq => " = ",
                Op::Ne => " IS DISTINCT FROM ",
                Op::Lt => " < ",
                Op::Lte => " <= ",
                Op::Gt => " > ",
                _ => " >= ",
            };
            push_lhs(q, alias, operand, today)
                .sql(sql_op)
                .bind::<Text, _>(text(&c.value))
                .sql(format!("::{}", rhs_cast(operand)))
        }
    }
}

/// How a record `x` of another ledger belongs to the same subject as `r`.
fn link(main: Subject, cross: Subject) -> StoreResult<&'static str> {
    Ok(match (main, cross) {
        (Subject::Resident, Subject::Resident) => "x.resident_id = r.resident_id",
        (Subject::Resident, Subject::Household) => "x.household_id = p.household_id",
        (Subject::Household, Subject::Household) => "x.household_id = r.household_id",
        (Subject::Household, Subject::Resident) => {
            "x.resident_id IN (SELECT m.id FROM residents m WHERE m.street_id = r.street_id AND m.household_id = r.household_id)"
        }
        _ => {
            return Err(StoreError::Check(
                "cross-ledger conditions need ledgers about residents or households".into(),
            ));
        }
    })
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: Uuid,
}

/// One page of the active records matching the plan, in id order.
pub async fn run(
    conn: &mut Conn,
    plan: &Plan,
    page: &PageRequest,
) -> StoreResult<Page<LedgerRecord>> {
    // The grids table is joined only to filter by community.
    let active = names(&[RecordStatus::Active.as_str()]);
    let communities = if plan.community_id.is_some() {
        "JOIN grids g ON g.street_id = r.street_id AND g.id = r.grid_id "
    } else {
        ""
    };
    let from = format!(
        "SELECT r.id FROM ledger_records r LEFT JOIN residents p ON p.street_id = r.street_id AND p.id = r.resident_id \
         {communities}WHERE r.status = {active} AND r.ledger_type_id = "
    );
    let mut q = Q {
        query: diesel::sql_query(from).into_boxed(),
        next: 1,
    }
    .bind::<diesel::sql_types::Uuid, _>(plan.ledger_type_id);
    if let Some(grids) = &plan.grids {
        q = q
            .sql(" AND r.grid_id = ANY (")
            .bind::<Array<diesel::sql_types::Uuid>, _>(grids.clone())
            .sql(")");
    }
    if let Some(c) = plan.community_id {
        q = q
            .sql(" AND g.community_id = ")
            .bind::<diesel::sql_types::Uuid, _>(c);
    }
    if let Some(g) = plan.grid_id {
        q = q
            .sql(" AND r.grid_id = ")
            .bind::<diesel::sql_types::Uuid, _>(g);
    }
    for c in &plan.conditions {
        q = push_condition(q, "r", c, plan.today);
    }
    for cross in &plan.also {
        let join = link(plan.subject, cross.subject)?;
        let not = if cross.present { "" } else { "NOT " };
        q = q
            .sql(format!(" AND {not}EXISTS (SELECT 1 FROM ledger_records x WHERE x.street_id = r.street_id AND x.status = {active} AND {join} AND x.ledger_type_id = "))
            .bind::<diesel::sql_types::Uuid, _>(cross.ledger_type_id);
        for c in &cross.conditions {
            q = push_condition(q, "x", c, plan.today);
        }
        q = q.sql(")");
    }
    if let Some(after) = page.after {
        q = q
            .sql(" AND r.id > ")
            .bind::<diesel::sql_types::Uuid, _>(after);
    }
    q = q
        .sql(" ORDER BY r.id LIMIT ")
        .bind::<diesel::sql_types::BigInt, _>(page.fetch_limit());
    let ids: Vec<Uuid> = q
        .query
        .load::<Id>(conn)
        .await?
        .into_iter()
        .map(|i| i.id)
        .collect();
    let mut records = crate::ledgers::get_records(conn, &ids).await?;
    records.sort_by_key(|r| r.id);
    Ok(Page::from_rows(records, page, |r| r.id))
}

/// A saved targeting query.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = crate::schema::saved_queries)]
pub struct SavedQuery {
    /// The query's id (UUIDv7).
    pub id: Uuid,
    /// The district it belongs to.
    pub district_id: Uuid,
    /// The street whose staff share it; `None`: the district's staff.
    pub street_id: Option<Uuid>,
    /// Its name.
    pub name: String,
    /// The targeting query (a `TargetQuery` as JSON), checked again each time it runs.
    pub query: serde_json::Value,
    /// The user who saved it.
    pub created_by: Uuid,
    /// When it was saved.
    pub created_at: DateTime<Utc>,
}

/// Saves a targeting query under `name` for a street's (or the district's) staff.
pub async fn save_query(
    conn: &mut Conn,
    district_id: Uuid,
    street_id: Option<Uuid>,
    name: &str,
    query: serde_json::Value,
    created_by: Uuid,
) -> StoreResult<SavedQuery> {
    use crate::schema::saved_queries as q;
    Ok(diesel::insert_into(q::table)
        .values((
            q::id.eq(Uuid::now_v7()),
            q::district_id.eq(district_id),
            q::street_id.eq(street_id),
            q::name.eq(name),
            q::query.eq(query),
            q::created_by.eq(created_by),
        ))
        .returning(SavedQuery::as_returning())
        .get_result(conn)
        .await?)
}

/// The saved queries visible to the caller, by id.
pub async fn list_saved_queries(conn: &mut Conn) -> StoreResult<Vec<SavedQuery>> {
    use crate::schema::saved_queries as q;
    Ok(q::table
        .select(SavedQuery::as_select())
        .order(q::id)
        .load(conn)
        .await?)
}

/// One saved query visible to the caller.
pub async fn get_saved_query(conn: &mut Conn, id: Uuid) -> StoreResult<SavedQuery> {
    use crate::schema::saved_queries as q;
    Ok(q::table
        .filter(q::id.eq(id))
        .select(SavedQuery::as_select())
        .first(conn)
        .await?)
}
