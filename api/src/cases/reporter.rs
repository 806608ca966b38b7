//! Revealing a case's reporter, with a stated purpose (audited).

use crate::http::input::Json;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, post};
use onegrid_domain::permissions::Action;
use onegrid_store::cases::{self, Case, ReporterField};
use onegrid_store::crypto::FieldKeys;
use onegrid_store::platform::audit;
use onegrid_store::{Conn, Principal};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::error::{ApiError, ApiResult, Code};
use crate::platform::auth::Caller;
use crate::platform::auth::throttle::RevealQuota;
use crate::state::AppState;

/// Which reporter field to reveal.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReporterRevealField {
    Name,
    Phone,
}

/// A reveal request; the purpose goes to the audit log.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReporterRevealBody {
    pub field: ReporterRevealField,
    /// Why (5-200 characters).
    pub purpose: String,
}

/// A revealed reporter field.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReporterRevealed {
    pub case_id: Uuid,
    pub field: ReporterRevealField,
    pub value: Option<String>,
}

/// Reveal a case's reporter
///
/// Needs `case.reporter_reveal` over the case and a stated purpose; never
/// allowed to the case's assignee (a suggestion-box reporter stays unknown to
/// whoever handles the case). Rate-limited; audited without the value.
#[utoipa::path(tag = "cases", params(("case_id" = Uuid, Path, description = "Case id")), request_body = ReporterRevealBody, responses((status = 200, body = ReporterRevealed)))]
#[post("/cases/{case_id}/reporter/reveal")]
pub async fn reveal_reporter(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    body: Json<ReporterRevealBody>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let body = body.into_inner();
    crate::http::check_purpose(&body.purpose)?;
    let st = state.clone();
    let request_id = crate::http::request_id::current();
    let revealed = state
        .on_row(
            caller,
            Action::CaseReporterReveal,
            move |c| Box::pin(cases::get_case(c, id)),
            move |c, p, case| {
                Box::pin(async move {
                    let value =
                        reveal(c, &p, (&st.reveals, &st.keys), &case, &body, &request_id).await?;
                    Ok(ReporterRevealed {
                        case_id: case.id,
                        field: body.field,
                        value,
                    })
                })
            },
        )
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(revealed))
}

/// Opens the asked field of `case`'s reporter for `p`, never its handler,
/// within the reveal quota, and records the purpose in the audit log
/// (without the value).
async fn reveal(
    c: &mut Conn,
    p: &Principal,
    (reveals, keys): (&RevealQuota, &FieldKeys),
    case: &Case,
    body: &ReporterRevealBody,
    request_id: &str,
) -> ApiResult<Option<String>> {
    if case
        .assignee_user_id
        .is_some_and(|a| a == p.accountable_user())
    {
        return Err(ApiError::new(
            Code::Forbidden,
            "the case's handler cannot see who reported it",
        ));
    }
    reveals.take(c, p.id(), p.now).await?;
    let field = match body.field {
        ReporterRevealField::Name => ReporterField::Name,
        ReporterRevealField::Phone => ReporterField::Phone,
    };
    let value = match cases::reporter_of(c, case).await? {
        Some(r) => r.open(keys, field).map_err(|e| {
            ApiError::new(
                Code::Internal,
                format!("cannot open {}: {e}", field.column()),
            )
        })?,
        None => None,
    };
    audit::record(
        c,
        p,
        audit::Event {
            street_id: Some(case.street_id),
            action: "case.reporter_reveal",
            subject_type: "case",
            subject_id: Some(case.id),
            field: Some(field.column()),
            purpose: Some(&body.purpose),
            request_id,
            details: serde_json::json!({}),
        },
    )
    .await?;
    Ok(value)
}
