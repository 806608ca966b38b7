//! Cases: a resident's need, a patrol finding, a hotline ticket or a meeting
//! decision, filed through one of six channels, read with its clocks and
//! history, and listed as work lists. The steps live in `case_steps`.

use crate::http::input::Json;
use actix_web::web::Data;
use actix_web::{HttpResponse, post};
use onegrid_domain::channels::{Channel, ServiceMode};
use onegrid_domain::geo::Point;
use onegrid_domain::permissions::Action;
use onegrid_domain::sla::Tier;
use onegrid_domain::text::Text;
use onegrid_store::targets::On;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::service::{self, Filing};
use super::views::{CaseView, load_view, view};
use crate::http::IdempotencyKey;
use crate::http::error::{ApiError, ApiResult};
use crate::platform::auth::Caller;
use crate::registry::residents_use::check_phone;
use crate::state::{AppState, Created};

/// Who reported a case, as given at filing.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReporterBody {
    pub name: Option<Text<50>>,
    pub phone: Option<String>,
}

/// A case to file.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCaseBody {
    pub channel: Channel,
    pub category_id: Uuid,
    #[schema(example = "楼道灯不亮")]
    pub title: Text<200>,
    pub description: Text<5000>,
    /// The grid; or give `location` (a point inside a grid's boundary) or a
    /// resident/household, whose grid is used.
    pub grid_id: Option<Uuid>,
    pub location: Option<Point>,
    #[schema(max_length = 200)]
    pub address: Option<String>,
    /// The category's extra fields.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub extra: serde_json::Map<String, serde_json::Value>,
    pub service_mode: Option<ServiceMode>,
    /// Overrides the category's tier.
    pub tier: Option<Tier>,
    /// The resident concerned.
    pub resident_id: Option<Uuid>,
    pub household_id: Option<Uuid>,
    #[serde(default)]
    #[schema(max_items = 20)]
    pub ledger_record_ids: Vec<Uuid>,
    /// Sealed; masked in every response, never shown for the suggestion box.
    pub reporter: Option<ReporterBody>,
}

impl NewCaseBody {
    /// The filing this body asks for, with the reporter's phone checked
    /// and written the one way the store keeps it, and the filing's own rules.
    fn into_filing(self) -> ApiResult<Filing> {
        let reporter_phone = match self.reporter.as_ref().and_then(|r| r.phone.as_deref()) {
            Some(p) => Some(check_phone(p).map_err(|_| {
                ApiError::field(
                    "reporter.phone",
                    "a mobile (11 digits from 1) or a landline",
                )
            })?),
            None => None,
        };
        let filing = Filing {
            channel: self.channel,
            category_id: self.category_id,
            title: self.title.into_inner(),
            description: self.description.into_inner(),
            grid_id: self.grid_id,
            location: self.location,
            address: self.address,
            extra: self.extra,
            service_mode: self.service_mode,
            tier: self.tier,
            resident_id: self.resident_id,
            household_id: self.household_id,
            ledger_record_ids: self.ledger_record_ids,
            reporter_name: self.reporter.and_then(|r| r.name).map(String::from),
            reporter_phone,
            links: Vec::new(),
        };
        service::check(&filing)?;
        Ok(filing)
    }
}

/// File a case
///
/// Files a resident's need (or a finding, ticket or meeting decision) through
/// one of six channels. The grid comes from `grid_id`, from a `location`
/// inside a grid's boundary, or from the resident/household concerned. The
/// first-response and resolution clocks start on the district's working
/// calendar. `app` is for API keys acting for a resident. The reporter is
/// sealed; for the suggestion box no response ever shows who it was.
#[utoipa::path(tag = "cases", request_body = NewCaseBody, responses((status = 201, body = CaseView)))]
#[post("/cases")]
pub async fn file_case(
    state: Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    body: Json<NewCaseBody>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let hash = crate::http::request_hash(&body);
    let filing = body.into_filing()?;
    let (st, now) = (state.clone(), state.clock.now());
    // The grid is found while filing (from a location or a resident, too),
    // so `service::file` proves the filing on it.
    state
        .create(
            caller,
            (Action::CaseFile, On::Anywhere),
            (key, hash),
            move |c, p, _| {
                Box::pin(async move {
                    let case = service::file(&st.keys, c, &p, filing, now).await?;
                    let (location, version) = (format!("/api/v1/cases/{}", case.id), case.version);
                    let loaded = load_view(&st, c, case).await?;
                    Created::new(view(loaded, now), location, Some(version))
                })
            },
        )
        .await
}
