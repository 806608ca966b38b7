//! Webhooks for integrators: register an endpoint for the district or one
//! street (URL checked against SSRF rules, event-type filter), receive its
//! signing secret once, rotate it, switch it off and on, read its delivery
//! log with every attempt, and replay a delivery.

use crate::http::input::Json;
use crate::http::input::Listed;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, get, patch, post};
use chrono::{DateTime, Utc};
use onegrid_domain::jobs::DeliveryState;
use onegrid_domain::netguard::Allowed;
use onegrid_domain::permissions::{Action, area};
use onegrid_store::StoreError;
use onegrid_store::integrations::webhooks::{self as hooks, Attempt, Delivery, Endpoint};
use onegrid_store::targets::On;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::webhooks_use::{self, EndpointBody, EndpointChangeBody};
use crate::http::error::{ApiError, ApiResult, Code};
use crate::http::{IfMatch, PageQuery, Paged, created_with_etag, etag, ok_with_etag};
use crate::platform::auth::Caller;
use crate::state::AppState;

/// A registered endpoint (its secret is shown only when created or rotated).
#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointView {
    pub id: Uuid,
    /// Absent: the whole district.
    pub street_id: Option<Uuid>,
    pub url: String,
    #[schema(max_length = 200)]
    pub description: Option<String>,
    /// Empty: every type.
    pub event_types: Vec<String>,
    pub enabled: bool,
    /// Why it was switched off (by an admin, or after days of failures).
    pub disabled_reason: Option<String>,
    /// Since when every attempt has failed.
    pub failing_since: Option<DateTime<Utc>>,
    /// Until when the secret a rotation replaced still signs.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn view(e: Endpoint) -> EndpointView {
    EndpointView {
        id: e.id,
        street_id: e.street_id,
        url: e.url,
        description: e.description,
        event_types: e.event_types,
        enabled: e.enabled,
        disabled_reason: e.disabled_reason,
        failing_since: e.failing_since,
        previous_secret_expires_at: e.previous_secret_expires_at,
        version: e.version,
        created_at: e.created_at,
        updated_at: e.updated_at,
    }
}

/// An endpoint with its signing secret: keep it, it is not shown again.
#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointWithSecret {
    #[serde(flatten)]
    pub endpoint: EndpointView,
    /// `whsec_…`: verify `webhook-signature` with it (Standard Webhooks).
    pub secret: String,
}

/// Register a webhook endpoint
///
/// Events of the street (or, for district admins, the whole district) are
/// POSTed to the URL, signed as Standard Webhooks has it. The answer carries
/// the signing secret, shown this once.
#[utoipa::path(tag = "webhooks", request_body = EndpointBody, responses((status = 201, body = EndpointWithSecret)))]
#[post("/webhook-endpoints")]
pub async fn create_endpoint(
    state: Data<AppState>,
    caller: Caller,
    body: Json<EndpointBody>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    webhooks_use::check_new(&allowed(&state), &body)?;
    let (now, keys) = (state.clock.now(), state.keys.clone());
    let secret = hooks::new_secret();
    let shown = secret.clone();
    // A district endpoint is the district's; a street named in the body that
    // the caller cannot see is a bad reference (422).
    let on = match body.street_id {
        Some(s) => On::Street(s).named("street_id"),
        None => On::District.into(),
    };
    let row = state
        .checked(caller, Action::WebhooksManage, on, move |c, p, _| {
            Box::pin(
                async move { webhooks_use::register(c, &p, (&keys, &secret), body, now).await },
            )
        })
        .await?;
    let (location, version) = (format!("/api/v1/webhook-endpoints/{}", row.id), row.version);
    let created = EndpointWithSecret {
        endpoint: view(row),
        secret: shown,
    };
    Ok(created_with_etag(location, &created, version))
}

/// The addresses webhooks may be sent to besides the public internet.
fn allowed(state: &AppState) -> Allowed {
    Allowed(state.config.webhook_allow.clone())
}

/// List webhook endpoints
///
/// The street's endpoints (street admins), or every endpoint of the district (district admins).
#[utoipa::path(tag = "webhooks", params(PageQuery), responses((status = 200, body = Paged<EndpointView>)))]
#[get("/webhook-endpoints")]
pub async fn list_endpoints(
    state: Data<AppState>,
    caller: Caller,
    Listed(_query, page): Listed,
) -> ApiResult<HttpResponse> {
    let rows = state
        .checked(
            caller,
            Action::WebhooksManage,
            On::Anywhere,
            move |c, p, _| {
                Box::pin(async move {
                    let area = area(&p.grants, Action::WebhooksManage);
                    Ok(hooks::list_endpoints(c, &area, &page).await?)
                })
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, view)))
}

/// Read a webhook endpoint
///
/// Its URL, filter, state and failure record (never its secret); the ETag
/// is the version to send in If-Match.
#[utoipa::path(tag = "webhooks", params(("webhook_endpoint_id" = Uuid, Path, description = "Endpoint id")), responses((status = 200, body = EndpointView)))]
#[get("/webhook-endpoints/{webhook_endpoint_id}")]
pub async fn get_endpoint(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let row = state
        .load_checked(caller, Action::WebhooksManage, move |c| {
            Box::pin(hooks::get_endpoint(c, id))
        })
        .await?;
    let version = row.version;
    Ok(ok_with_etag(&view(row), version))
}

/// Change a webhook endpoint
///
/// Under If-Match: URL (checked again), description, event types, on/off.
#[utoipa::path(tag = "webhooks", params(("webhook_endpoint_id" = Uuid, Path, description = "Endpoint id")), request_body = EndpointChangeBody, responses((status = 200, body = EndpointView)))]
#[patch("/webhook-endpoints/{webhook_endpoint_id}")]
pub async fn update_endpoint(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    if_match: IfMatch,
    body: Json<EndpointChangeBody>,
) -> ApiResult<HttpResponse> {
    let (id, body) = (id.into_inner(), body.into_inner());
    webhooks_use::check_change(&allowed(&state), &body)?;
    let now = state.clock.now();
    let row = state
        .on_row(
            caller,
            Action::WebhooksManage,
            move |c| Box::pin(hooks::get_endpoint(c, id)),
            move |c, _, current| {
                Box::pin(async move {
                    let version = if_match.version()?;
                    webhooks_use::change(c, &current, version, body, now).await
                })
            },
        )
        .await?;
    let version = row.version;
    Ok(ok_with_etag(&view(row), version))
}

/// Rotate an endpoint's signing secret
///
/// A new secret signs from now on; the old one keeps signing beside it for
/// 24 hours (two `v1,` signatures), so receivers can switch without a gap.
#[utoipa::path(tag = "webhooks", params(("webhook_endpoint_id" = Uuid, Path, description = "Endpoint id")), responses((status = 200, body = EndpointWithSecret)))]
#[post("/webhook-endpoints/{webhook_endpoint_id}/rotate-secret")]
pub async fn rotate_secret(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let (now, keys) = (state.clock.now(), state.keys.clone());
    let secret = hooks::new_secret();
    let shown = secret.clone();
    let row = state
        .on_row(
            caller,
            Action::WebhooksManage,
            move |c| Box::pin(hooks::get_endpoint(c, id)),
            move |c, _, current| {
                Box::pin(async move {
                    Ok(hooks::rotate_secret(c, &keys, &current, &secret, now).await?)
                })
            },
        )
        .await?;
    let version = row.version;
    Ok(HttpResponse::Ok()
        .insert_header(("etag", etag(version)))
        .json(EndpointWithSecret {
            endpoint: view(row),
            secret: shown,
        }))
}

/// A delivery of an event to an endpoint.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    pub id: Uuid,
    pub endpoint_id: Uuid,
    /// Also the `webhook-id` header: the same on every attempt and replay.
    pub event_id: Uuid,
    pub event_type: String,
    pub state: DeliveryState,
    pub attempts: i32,
    pub replays: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_status: Option<i16>,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

fn delivery_view(d: Delivery, event_type: String) -> DeliveryView {
    DeliveryView {
        id: d.id,
        endpoint_id: d.endpoint_id,
        event_id: d.event_id,
        event_type,
        state: d.state,
        attempts: d.attempts,
        replays: d.replays,
        next_attempt_at: d.next_attempt_at,
        last_status: d.last_status,
        last_error: d.last_error,
        delivered_at: d.delivered_at,
        created_at: d.created_at,
    }
}

/// One attempt of a delivery.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptView {
    pub attempt: i32,
    pub at: DateTime<Utc>,
    /// The receiver's HTTP status (absent: no answer).
    pub status: Option<i16>,
    pub duration_ms: i32,
    pub error: Option<String>,
    /// The start of the receiver's answer.
    pub response: Option<String>,
}

fn attempt_view(a: Attempt) -> AttemptView {
    AttemptView {
        attempt: a.attempt,
        at: a.at,
        status: a.status,
        duration_ms: a.duration_ms,
        error: a.error,
        response: a.response,
    }
}

/// A delivery with its attempts and the body sent.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryDetail {
    #[serde(flatten)]
    pub delivery: DeliveryView,
    pub attempts_log: Vec<AttemptView>,
    /// The body POSTed (`type`, `timestamp`, `data`).
    #[schema(value_type = Object)]
    pub body: serde_json::Value,
}

/// Filters of the delivery log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeliveryQuery {
    pub state: Option<DeliveryState>,
    pub cursor: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

crate::http::page_params!(DeliveryQuery);

/// An endpoint's delivery log
///
/// Newest first, optionally of one state.
#[utoipa::path(tag = "webhooks", params(("webhook_endpoint_id" = Uuid, Path, description = "Endpoint id"), DeliveryQuery), responses((status = 200, body = Paged<DeliveryView>)))]
#[get("/webhook-endpoints/{webhook_endpoint_id}/deliveries")]
pub async fn list_deliveries(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
    Listed(q, page): Listed<DeliveryQuery>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let filter = q.state;
    let rows = state
        .on_row(
            caller,
            Action::WebhooksManage,
            move |c| Box::pin(hooks::get_endpoint(c, id)),
            move |c, _, e| {
                Box::pin(async move { Ok(hooks::list_deliveries(c, e.id, filter, &page).await?) })
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(Paged::from_page(rows, |(d, t)| delivery_view(d, t))))
}

/// The endpoint a delivery goes to: a delivery is managed as its endpoint is.
async fn endpoint_of(c: &mut onegrid_store::Conn, delivery: Uuid) -> Result<Endpoint, StoreError> {
    let d = hooks::get_delivery(c, delivery).await?;
    hooks::get_endpoint(c, d.endpoint_id).await
}

async fn delivery_detail(c: &mut onegrid_store::Conn, id: Uuid) -> ApiResult<DeliveryDetail> {
    let out = hooks::outgoing(c, id).await?;
    let attempts = hooks::attempts(c, id).await?;
    let body = serde_json::from_slice(&hooks::body(&out.event)).unwrap_or_default();
    Ok(DeliveryDetail {
        delivery: delivery_view(out.delivery, out.event.kind),
        attempts_log: attempts.into_iter().map(attempt_view).collect(),
        body,
    })
}

/// Read a delivery
///
/// With every attempt (status, time taken, error, the start of the answer)
/// and the body sent.
#[utoipa::path(tag = "webhooks", params(("webhook_delivery_id" = Uuid, Path, description = "Delivery id")), responses((status = 200, body = DeliveryDetail)))]
#[get("/webhook-deliveries/{webhook_delivery_id}")]
pub async fn get_delivery(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let detail = state
        .on_row(
            caller,
            Action::WebhooksManage,
            move |c| Box::pin(endpoint_of(c, id)),
            move |c, _, _| Box::pin(delivery_detail(c, id)),
        )
        .await?;
    Ok(HttpResponse::Ok().json(detail))
}

/// Replay a delivery
///
/// Sends a delivered or failed event again, with a fresh round of attempts
/// and the same `webhook-id`; 409 while it is still pending.
#[utoipa::path(tag = "webhooks", params(("webhook_delivery_id" = Uuid, Path, description = "Delivery id")), responses((status = 200, body = DeliveryDetail)))]
#[post("/webhook-deliveries/{webhook_delivery_id}/replay")]
pub async fn replay_delivery(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let now = state.clock.now();
    let detail = state
        .on_row(
            caller,
            Action::WebhooksManage,
            move |c| Box::pin(endpoint_of(c, id)),
            move |c, _, endpoint| {
                Box::pin(async move {
                    if !endpoint.enabled {
                        return Err(ApiError::new(
                            Code::Conflict,
                            "the endpoint is disabled; switch it on first",
                        ));
                    }
                    let d = hooks::get_delivery(c, id).await?;
                    if !hooks::replay(c, &d, now).await? {
                        return Err(ApiError::new(
                            Code::Conflict,
                            "the delivery is still pending; it is replayed once delivered or failed",
                        ));
                    }
                    delivery_detail(c, id).await
                })
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(detail))
}
