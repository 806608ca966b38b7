//! The OpenAPI 3.1 document, generated from the router (registering a route
//! registers its documentation) and completed here with what every operation
//! shares: security requirements and problem+json error responses.

use utoipa::OpenApi as _;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{Content, OpenApi, Ref, RefOr};
use utoipa_actix_web::AppExt;

use crate::http::error::{FieldError, Problem};

/// Operations callable without credentials.
pub const PUBLIC_OPERATIONS: &[&str] = &[
    "login", "refresh", "healthz", "readyz", "metrics", "problems", "problem",
];

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "OneGrid API",
        description = "Grid-based community governance (网格化社会治理) for a district: streets (街道), \
communities (社区), grids (网格) and their staff (一格三员). Every street is a tenant: nothing of one \
street is visible to another. Errors are RFC 9457 problem+json with a stable `code` (catalogue at \
`/problems`). Lists use cursor pagination (`cursor`, `limit` ≤ 200); updates need `If-Match`; creates \
accept `Idempotency-Key`. The permission matrix is in the README.",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    servers((url = "/", description = "This deployment")),
    components(schemas(Problem, FieldError)),
    tags(
        (name = "auth", description = "Login, token refresh, logout, identity"),
        (name = "hierarchy", description = "District (区) → street (街道) → community (社区) → grid (网格)"),
        (name = "departments", description = "The district's departments (部门)"),
        (name = "staff", description = "Staff accounts, roles and 一格三员 grid staffing"),
        (name = "registry", description = "Buildings, households and residents of a grid; sensitive values masked, revealed only with a purpose (audited)"),
        (name = "ledgers", description = "Typed ledgers (台账) defined as data, their records and versions, targeting queries"),
        (name = "cases", description = "Resident needs (诉求) as cases: channels, lifecycle steps, SLA clocks on the working calendar, tasks and bundles, appointments, attachments, work lists and KPIs; the district's calendar, tiers and category catalogue"),
        (name = "audit", description = "The append-only audit log"),
        (name = "api-keys", description = "Keys for machine clients"),
        (name = "mediation", description = "Disputes (矛盾纠纷) up the ladder grid → community → street → centre, mediation sessions and outcomes, the street's whistle (街道吹哨), departments' report-in (部门报到), ratings and figures"),
        (name = "patrols", description = "The grid worker's daily patrol log (网格日巡记录本): visits, findings turned into cases, coverage"),
        (name = "meetings", description = "The half-monthly resident needs meeting (居民问需会): schedule, agenda, decisions as service items, report-back"),
        (name = "webhooks", description = "Webhook endpoints for integrators (Standard Webhooks signing, SSRF-checked URLs), their delivery log and replays"),
        (name = "operations", description = "Health, readiness, metrics, error catalogue, the worker's jobs and schedules"),
    )
)]
struct ApiDoc;

fn operations(item: &mut PathItem) -> impl Iterator<Item = (&'static str, &mut Operation)> {
    [
        ("get", item.get.as_mut()),
        ("put", item.put.as_mut()),
        ("post", item.post.as_mut()),
        ("delete", item.delete.as_mut()),
        ("patch", item.patch.as_mut()),
    ]
    .into_iter()
    .filter_map(|(m, op)| op.map(|o| (m, o)))
}

fn problem_response(status: &str, description: &str) -> RefOr<utoipa::openapi::Response> {
    let response = ResponseBuilder::new().description(description).content(
        "application/problem+json",
        Content::new(Some(Ref::from_schema_name("Problem"))),
    );
    // 429 and 503 always say when to try again.
    let response = if matches!(status, "429" | "503") {
        response.header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .minimum(Some(1)),
                ))
                .description(Some("Seconds to wait before retrying"))
                .build(),
        )
    } else {
        response
    };
    RefOr::T(response.build())
}

/// The error statuses an operation can answer, with what they mean there.
fn error_statuses(
    op: &Operation,
    method: &str,
    path: &str,
    public: bool,
) -> Vec<(&'static str, &'static str)> {
    let has_body = op.request_body.is_some();
    let has_params = op.parameters.as_ref().is_some_and(|p| !p.is_empty());
    let mut out = Vec::new();
    if has_body || has_params || path.contains('{') {
        out.push(("400", "Malformed request: bad JSON, path or query parameter (`malformed_json`, `invalid_parameter`)"));
    }
    if !public {
        out.push(("401", "Missing, invalid, expired or revoked credential (`unauthenticated`, `invalid_token`); carries `WWW-Authenticate`"));
        out.push((
            "403",
            "Authenticated, but the permission matrix does not allow this here (`forbidden`)",
        ));
    }
    if path.contains('{') {
        out.push(("404", "No such resource in your scope; another street's objects are never revealed (`not_found`)"));
    }
    if has_body {
        out.push(("413", "Body larger than the limit (`payload_too_large`)"));
        out.push((
            "415",
            "Body is not application/json (`unsupported_media_type`)",
        ));
        out.push(("422", "Invalid fields, unknown fields, or references outside your scope (`validation_failed`, `invalid_reference`, `idempotency_key_reused`)"));
    }
    match method {
        "post" if !public && has_body => out.push((
            "409",
            "Conflicts with an existing resource, e.g. a code already taken (`conflict`)",
        )),
        "patch" => {
            out.push(("409", "Conflicts with an existing resource (`conflict`)"));
            out.push((
                "412",
                "If-Match does not match the current version (`version_mismatch`)",
            ));
            out.push(("428", "If-Match is missing (`precondition_required`)"));
        }
        _ => {}
    }
    // A saved query stored under an older query language no longer reads.
    if method == "get" && path.starts_with("/api/v1/saved-queries") {
        out.push((
            "409",
            "A saved query no longer fits the query language; save it again (`conflict`)",
        ));
    }
    if public && method == "post" {
        out.push(("401", "Wrong username or password (`invalid_credentials`), or an unusable refresh token (`invalid_token`, `refresh_token_reused`)"));
    }
    if op.operation_id.as_deref() == Some("login") {
        out.push((
            "429",
            "Too many failed logins for this username (`too_many_requests`); see `Retry-After`",
        ));
    }
    // Every reveal (resident, case reporter, dispute party) takes from the
    // caller's hourly reveal quota.
    if path.ends_with("/reveal") {
        out.push((
            "429",
            "The caller's reveals this hour are used up (`too_many_requests`); see `Retry-After`",
        ));
    }
    out.push((
        "500",
        "Internal error; the body is generic, the cause is logged with the request id (`internal`)",
    ));
    out.push(("503", "PostgreSQL unavailable (`unavailable`)"));
    out
}

/// Adds security requirements, error responses and security schemes.
pub fn complete(mut spec: OpenApi) -> OpenApi {
    for (path, item) in spec.paths.paths.iter_mut() {
        for (method, op) in operations(item) {
            let id = op.operation_id.clone().unwrap_or_default();
            let public = PUBLIC_OPERATIONS.contains(&id.as_str());
            op.security = Some(if public {
                vec![SecurityRequirement::default()]
            } else {
                vec![
                    SecurityRequirement::new("bearer", Vec::<String>::new()),
                    SecurityRequirement::new("api_key", Vec::<String>::new()),
                ]
            });
            for (status, description) in error_statuses(op, method, path, public) {
                op.responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert_with(|| problem_response(status, description));
            }
        }
    }
    let components = spec.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some(
                    "Access token from POST /api/v1/auth/login (EdDSA, 10 minutes)",
                ))
                .build(),
        ),
    );
    components.add_security_scheme(
        "api_key",
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "X-API-Key",
            "Key from POST /api/v1/api-keys (`ogk_…`)",
        ))),
    );
    spec.info.version = env!("CARGO_PKG_VERSION").to_owned();
    spec
}

/// The base document the router adds its paths to.
pub fn base() -> OpenApi {
    ApiDoc::openapi()
}

/// The complete document, without starting a server.
pub fn document() -> OpenApi {
    let (_, spec) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(base())
        .configure(crate::app::routes)
        .split_for_parts();
    complete(spec)
}

/// The document as committed in `openapi/openapi.json`.
pub fn document_json() -> String {
    let mut text = document().to_pretty_json().unwrap_or_default();
    text.push('\n');
    text
}
