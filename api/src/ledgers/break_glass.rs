//! 破窗 (break the glass): a reason-bound, time-limited read of one protected
//! ledger type in one community, with notice to its admins.

use crate::http::input::Json;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, post};
use onegrid_domain::permissions::Action;
use onegrid_store::targets::On;
use uuid::Uuid;

use super::break_glass_use::{self, BreakGlass, BreakGlassBody, BreakGlassView};
use crate::http::error::ApiResult;
use crate::platform::auth::Caller;
use crate::state::AppState;

/// Break the glass
///
/// Opens a 3-hour grant to read a protected ledger in one community outside
/// the caller's scope, for a stated reason. The grant and every read under it
/// are audited, and the community's admins are notified. Closed ledgers have
/// no break-glass.
#[utoipa::path(tag = "ledgers", params(("ledger_type_id" = Uuid, Path, description = "Ledger type id")), request_body = BreakGlassBody, responses((status = 201, body = BreakGlassView)))]
#[post("/ledger-types/{ledger_type_id}/break-glass")]
pub async fn break_the_glass(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    body: Json<BreakGlassBody>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    break_glass_use::check_body(&body)?;
    let cmd = BreakGlass {
        ledger_type_id: id.into_inner(),
        body,
        now: state.clock.now(),
        today: state.clock.today(),
        request_id: crate::http::request_id::current(),
    };
    // The community is named in the body: it is found (422 when it is not)
    // and, once the ledger is known to have a break-glass, checked.
    let grant = state
        .checked(caller, Action::BreakGlass, On::Anywhere, move |c, p, _| {
            Box::pin(async move { break_glass_use::open(c, &p, cmd).await })
        })
        .await?;
    Ok(HttpResponse::Created().json(grant))
}
