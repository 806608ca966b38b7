//! The work list as a spreadsheet (CSV or xlsx).

use crate::http::input::Query;
use actix_web::web::Data;
use actix_web::{HttpResponse, get};
use chrono::{DateTime, Utc};
use onegrid_domain::permissions::Action;
use onegrid_store::cases::{self};
use onegrid_store::targets::On;

use super::views::{CaseView, load_views, view};
use super::work_lists::{CaseQuery, filter_of};
use crate::http::error::{ApiError, ApiResult, Code};
use crate::platform::auth::Caller;
use crate::state::AppState;
use onegrid_domain::sla::ClockKind;

/// Cases one export holds at most.
const MAX_EXPORT: i64 = 50_000;

fn export_header() -> Vec<String> {
    [
        "编号",
        "状态",
        "渠道",
        "类别",
        "等级",
        "标题",
        "描述",
        "社区",
        "网格",
        "承办人",
        "承办部门",
        "服务方式",
        "反映人",
        "反映人电话",
        "受理时间",
        "首次响应时限",
        "首次响应",
        "办结时限",
        "办结",
        "办结时间",
        "结案时间",
        "评价",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect()
}

fn export_row(v: &CaseView) -> Vec<String> {
    let text = |o: Option<&str>| o.unwrap_or_default().to_owned();
    let at = |t: Option<DateTime<Utc>>| {
        t.map(|t| {
            t.with_timezone(&onegrid_domain::clock::CHINA)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default()
    };
    let clock = |kind: ClockKind| v.clocks.iter().find(|c| c.kind == kind && c.cycle == 0);
    let (reporter, phone) = match &v.reporter {
        Some(r) if r.sealed => ("已密封".to_owned(), String::new()),
        Some(r) => (text(r.name.as_deref()), text(r.phone.as_deref())),
        None => (String::new(), String::new()),
    };
    vec![
        v.number.to_string(),
        v.status.to_string(),
        v.channel.to_string(),
        v.category_id.to_string(),
        v.tier.to_string(),
        v.title.clone(),
        v.description.clone(),
        v.community_id.to_string(),
        v.grid_id.to_string(),
        v.assignee_user_id
            .map(|u| u.to_string())
            .unwrap_or_default(),
        v.assignee_department_id
            .map(|d| d.to_string())
            .unwrap_or_default(),
        v.service_mode.map(|m| m.to_string()).unwrap_or_default(),
        reporter,
        phone,
        at(Some(v.created_at)),
        at(clock(ClockKind::Response).map(|c| c.due_at)),
        clock(ClockKind::Response)
            .map(|c| c.state.to_string())
            .unwrap_or_default(),
        at(clock(ClockKind::Resolution).map(|c| c.due_at)),
        clock(ClockKind::Resolution)
            .map(|c| c.state.to_string())
            .unwrap_or_default(),
        at(v.resolved_at),
        at(v.closed_at),
        v.ratings
            .last()
            .map(|r| r.score.to_string())
            .unwrap_or_default(),
    ]
}

/// Export cases
///
/// The cases of a work list (same filters as `GET /cases`, up to 50,000,
/// newest first) as xlsx or CSV. Reporters are masked, suggestion-box
/// reporters show only that they are sealed; formula-looking text is inert.
#[utoipa::path(tag = "cases", params(CaseQuery), responses((status = 200, description = "The export file", content((String = "text/csv"), (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))))]
#[get("/cases/export")]
pub async fn export_cases(
    state: Data<AppState>,
    caller: Caller,
    q: Query<CaseQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    if q.cursor.is_some() || q.limit.is_some() {
        return Err(ApiError::new(
            Code::InvalidParameter,
            "an export has every matching case: no cursor or limit",
        ));
    }
    let format = q.format.unwrap_or(crate::http::sheets::Format::Xlsx);
    let (st, now) = (state.clone(), state.clock.now());
    let loaded = state
        .checked(caller, Action::CaseRead, On::Anywhere, move |c, p, _| {
            Box::pin(async move {
                let filter = filter_of(&p, &q)?;
                let page = onegrid_store::page::PageRequest::first(MAX_EXPORT);
                let rows = cases::list_cases(c, &filter, &page, now).await?;
                load_views(&st, c, rows.items).await
            })
        })
        .await?;
    let rows: Vec<Vec<String>> = loaded
        .into_iter()
        .map(|l| export_row(&view(l, now)))
        .collect();
    crate::http::sheets::download(format, "cases", &export_header(), &rows)
}
