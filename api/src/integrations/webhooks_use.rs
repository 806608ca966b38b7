//! The use cases of webhook endpoints: registering one for the district or
//! a street, and changing it under its version. The URL is held to the SSRF
//! rules and the event-type filter to the catalogue before anything is
//! written, with every bad field reported at once. They know no HTTP.

use chrono::{DateTime, Utc};
use onegrid_domain::netguard::{self, Allowed};
use onegrid_domain::webhooks::EVENT_TYPES;
use onegrid_store::crypto::FieldKeys;
use onegrid_store::integrations::webhooks::{self as hooks, Endpoint, EndpointChange};
use onegrid_store::{Conn, Principal, StoreError};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::error::{ApiError, ApiResult, FieldError};

/// An endpoint to register.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointBody {
    /// `https://…`; loopback, private, link-local and metadata addresses are refused.
    pub url: String,
    #[schema(max_length = 200)]
    pub description: Option<String>,
    /// Subscribe to these types only (default: every type).
    #[serde(default)]
    pub event_types: Vec<String>,
    /// Events of this street only (default: the whole district, district admins only).
    pub street_id: Option<Uuid>,
}

/// What to change on an endpoint; absent fields keep their value.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointChangeBody {
    pub url: Option<String>,
    #[schema(max_length = 200)]
    pub description: Option<String>,
    pub event_types: Option<Vec<String>>,
    /// Switching an endpoint back on clears its failure record.
    pub enabled: Option<bool>,
}

/// A new endpoint's rules: a URL the worker may call, known types once each.
pub fn check_new(allowed: &Allowed, body: &EndpointBody) -> ApiResult<()> {
    let mut errors = Vec::new();
    check_url(allowed, &body.url, &mut errors);
    check_event_types(&body.event_types, &mut errors);
    refuse(errors)
}

/// A change's rules: the same, on the fields it sends.
pub fn check_change(allowed: &Allowed, body: &EndpointChangeBody) -> ApiResult<()> {
    let mut errors = Vec::new();
    if let Some(url) = &body.url {
        check_url(allowed, url, &mut errors);
    }
    if let Some(types) = &body.event_types {
        check_event_types(types, &mut errors);
    }
    refuse(errors)
}

fn refuse(errors: Vec<FieldError>) -> ApiResult<()> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::fields(errors))
    }
}

fn check_event_types(types: &[String], errors: &mut Vec<FieldError>) {
    for (i, t) in types.iter().enumerate() {
        if !EVENT_TYPES.contains(&t.as_str()) {
            errors.push(FieldError {
                field: format!("event_types[{i}]"),
                message: format!("one of {}", EVENT_TYPES.join(", ")),
            });
        } else if types.iter().take(i).any(|earlier| earlier == t) {
            errors.push(FieldError {
                field: format!("event_types[{i}]"),
                message: "listed twice".into(),
            });
        }
    }
}

fn check_url(allowed: &Allowed, url: &str, errors: &mut Vec<FieldError>) {
    if let Err(e) = netguard::check_url(url, allowed) {
        errors.push(FieldError {
            field: "url".into(),
            message: e.to_string(),
        });
    }
}

/// Registers `body`'s endpoint for `p`, signing with `secret` (sealed
/// with `keys`).
pub async fn register(
    c: &mut Conn,
    p: &Principal,
    (keys, secret): (&FieldKeys, &str),
    body: EndpointBody,
    now: DateTime<Utc>,
) -> ApiResult<Endpoint> {
    let new = hooks::NewEndpoint {
        district_id: p.district_id,
        street_id: body.street_id,
        url: body.url,
        description: body.description,
        event_types: body.event_types,
        created_by: p.accountable_user(),
    };
    Ok(hooks::create_endpoint(c, keys, new, secret, now).await?)
}

/// Applies `body` to `current` when the client read `version`.
pub async fn change(
    c: &mut Conn,
    current: &Endpoint,
    version: i32,
    body: EndpointChangeBody,
    now: DateTime<Utc>,
) -> ApiResult<Endpoint> {
    let change = EndpointChange {
        url: body.url,
        description: body.description.map(Some),
        event_types: body.event_types,
        enabled: body.enabled,
    };
    let changed = hooks::change_endpoint(c, current, version, change, now).await?;
    Ok(changed.ok_or(StoreError::VersionMismatch {
        current: current.version,
    })?)
}
