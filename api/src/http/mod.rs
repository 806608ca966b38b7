//! Conventions every resource shares: cursor pagination, ETag/If-Match,
//! Idempotency-Key, and problem+json for the framework's own extractor errors.
//!
//! The cross-cutting HTTP pieces live here too: the error catalogue, the
//! strict JSON and query extractors, uploads, spreadsheets and request ids.

pub mod error;
pub mod input;
pub mod request_id;
pub mod rules;
pub mod sheets;
pub mod upload;

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::error::PathError;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use onegrid_store::page::{Page, PageRequest};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::http::error::{ApiError, ApiResult, Code};

/// Largest page size.
pub const MAX_LIMIT: i64 = 200;
/// Page size when `limit` is absent.
pub const DEFAULT_LIMIT: i64 = 50;

/// Cursor pagination parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// Opaque cursor from a previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

impl PageQuery {
    /// Validates the parameters (400 `invalid_parameter` when out of range).
    pub fn request(&self) -> ApiResult<PageRequest> {
        self.page()
    }
}

/// A list's query that carries the page parameters (`cursor`, `limit`)
/// beside its own filters; [`page_params!`] implements it from those two
/// fields.
pub trait PageParams {
    /// The cursor and page size as sent.
    fn page_params(&self) -> (Option<&str>, Option<i64>);

    /// Validates the page parameters (400 `invalid_parameter` when out of range).
    fn page(&self) -> ApiResult<PageRequest> {
        let (cursor, limit) = self.page_params();
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::new(
                Code::InvalidParameter,
                format!("limit must be between 1 and {MAX_LIMIT}"),
            ));
        }
        let after = match cursor {
            None => None,
            Some(c) => Some(
                URL_SAFE_NO_PAD
                    .decode(c)
                    .ok()
                    .and_then(|b| Uuid::from_slice(&b).ok())
                    .ok_or_else(|| {
                        ApiError::new(Code::InvalidParameter, "cursor is not one this API issued")
                    })?,
            ),
        };
        Ok(PageRequest { after, limit })
    }
}

/// Implements [`PageParams`] for query types with `cursor` and `limit` fields.
macro_rules! page_params {
    ($($query:ty),+ $(,)?) => {
        $(impl $crate::http::PageParams for $query {
            fn page_params(&self) -> (Option<&str>, Option<i64>) {
                (self.cursor.as_deref(), self.limit)
            }
        })+
    };
}
pub(crate) use page_params;

page_params!(PageQuery);

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Paged<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl<T> Paged<T> {
    pub fn from_page<R>(page: Page<R>, f: impl FnMut(R) -> T) -> Paged<T> {
        let next_cursor = page
            .next_after
            .map(|id| URL_SAFE_NO_PAD.encode(id.as_bytes()));
        Paged {
            items: page.items.into_iter().map(f).collect(),
            next_cursor,
        }
    }
}

/// The strong ETag of a version.
pub fn etag(version: i32) -> String {
    format!("\"{version}\"")
}

/// 200 with a body and its ETag.
pub fn ok_with_etag(body: &impl Serialize, version: i32) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, etag(version)))
        .json(body)
}

/// 201 Created with the new resource's `Location` and `ETag`.
pub fn created_with_etag(location: String, body: &impl Serialize, version: i32) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .insert_header((header::ETAG, etag(version)))
        .json(body)
}

/// The `If-Match` precondition of an update.
#[derive(Debug, Clone, Copy)]
pub struct IfMatch(pub Option<Result<i32, ()>>);

impl IfMatch {
    /// The version the client read: 428 when absent, 412 when unparsable.
    pub fn version(self) -> ApiResult<i32> {
        match self.0 {
            None => Err(ApiError::new(
                Code::PreconditionRequired,
                "send If-Match with the ETag from your last read",
            )),
            Some(Err(())) => Err(ApiError::new(
                Code::VersionMismatch,
                "If-Match does not name a version of this resource",
            )),
            Some(Ok(v)) => Ok(v),
        }
    }
}

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = Ready<Result<IfMatch, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let value = req.headers().get(header::IF_MATCH).map(|v| {
            v.to_str()
                .ok()
                .map(|s| s.trim().trim_start_matches("W/"))
                .and_then(|s| s.strip_prefix('"')?.strip_suffix('"')?.parse::<i32>().ok())
                .ok_or(())
        });
        ready(Ok(IfMatch(value)))
    }
}

/// Proof that a request's credential and permission were checked against the
/// database. Only [`permit`] and [`permit_row`] make one, and [`read_body`]
/// wants one: no byte of an upload is read for a caller who may not make it
/// (an unknown API key, a revoked session, a role without the permission are
/// refused unread). The upload's own transaction checks again when it writes.
#[derive(Debug)]
pub struct Permitted(());

/// Proves `action` on `on` in a transaction of its own.
pub async fn permit(
    state: &crate::state::AppState,
    caller: &crate::platform::auth::Caller,
    action: onegrid_domain::permissions::Action,
    on: onegrid_store::targets::On,
) -> ApiResult<Permitted> {
    state
        .checked(caller.clone(), action, on, |_, _, _| {
            Box::pin(async { Ok(()) })
        })
        .await?;
    Ok(Permitted(()))
}

/// Loads a row and proves `action` on it in a transaction of its own.
pub async fn permit_row<R, L>(
    state: &crate::state::AppState,
    caller: &crate::platform::auth::Caller,
    action: onegrid_domain::permissions::Action,
    load: L,
) -> ApiResult<Permitted>
where
    R: onegrid_store::targets::Guarded + Send + 'static,
    L: for<'c> FnOnce(
            &'c mut onegrid_store::Conn,
        )
            -> futures_util::future::BoxFuture<'c, Result<R, onegrid_store::StoreError>>
        + Send
        + 'static,
{
    state.load_checked(caller.clone(), action, load).await?;
    Ok(Permitted(()))
}

/// Reads a raw upload, refusing it with 413 as soon as it passes `limit`
/// bytes (a declared `Content-Length` over the limit is refused unread).
pub async fn read_body(
    req: &actix_web::HttpRequest,
    mut payload: web::Payload,
    limit: usize,
    what: &str,
    _permitted: &Permitted,
) -> ApiResult<Vec<u8>> {
    use futures_util::StreamExt;
    let too_large = || {
        ApiError::new(
            Code::PayloadTooLarge,
            format!("{what} are limited to {limit} bytes"),
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::new(Code::MalformedJson, format!("the upload broke off: {e}"))
        })?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The optional `Idempotency-Key` of a create.
#[derive(Debug, Clone)]
pub struct IdempotencyKey(pub Option<String>);

impl FromRequest for IdempotencyKey {
    type Error = ApiError;
    type Future = Ready<Result<IdempotencyKey, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let result = match req.headers().get("idempotency-key") {
            None => Ok(IdempotencyKey(None)),
            Some(v) => match v.to_str() {
                Ok(s)
                    if (1..=255).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_graphic()) =>
                {
                    Ok(IdempotencyKey(Some(s.to_owned())))
                }
                _ => Err(ApiError::new(
                    Code::InvalidParameter,
                    "Idempotency-Key must be 1 to 255 visible ASCII characters",
                )),
            },
        };
        ready(result)
    }
}

/// SHA-256 of a request body, to tell a replay from a different request.
pub fn request_hash(body: &impl Serialize) -> Vec<u8> {
    Sha256::digest(serde_json::to_vec(body).unwrap_or_default()).to_vec()
}

/// Path parameters: a bad id is 400, not the framework's text/plain 404. The
/// error names the parameter, not its value.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|_err: PathError, req| {
        let names: Vec<&str> = req.match_info().iter().map(|(name, _)| name).collect();
        let suspects: Vec<&str> = req
            .match_info()
            .iter()
            .filter(|(_, value)| Uuid::parse_str(value).is_err())
            .map(|(name, _)| name)
            .collect();
        let detail = match (names.as_slice(), suspects.as_slice()) {
            ([name], _) | (_, [name]) => format!("invalid path parameter `{name}`"),
            _ => "invalid path parameter".to_owned(),
        };
        ApiError::new(Code::InvalidParameter, detail).into()
    })
}

/// Unknown routes answer problem+json 404.
pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(Code::NotFound, "no such route"))
}

/// Deserializes a field that distinguishes "absent" (`None`) from `null`
/// (`Some(None)`), for PATCH bodies that can clear a value.
pub fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Parses an optional `YYYY-MM-DD` date field.
pub fn parse_day(field: &str, value: Option<&str>) -> ApiResult<Option<chrono::NaiveDate>> {
    value
        .map(|v| {
            chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .map_err(|_| ApiError::field(field, "must be a date YYYY-MM-DD"))
        })
        .transpose()
}

/// The stated purpose of revealing a sensitive value: 5 to 200 characters.
pub fn check_purpose(purpose: &str) -> ApiResult<()> {
    if purpose.trim().chars().count() < 5 {
        return Err(ApiError::field(
            "purpose",
            "state why you need the value (at least 5 characters)",
        ));
    }
    check_name("purpose", purpose, 200)
}

/// The stated reason of a change kept in the audit log: 5 to 500 characters.
pub fn check_reason(reason: &str) -> ApiResult<()> {
    if reason.trim().chars().count() < 5 {
        return Err(ApiError::field(
            "reason",
            "state why (at least 5 characters)",
        ));
    }
    check_name("reason", reason, 500)
}

/// Validates a free-text name field of at most `max` characters.
pub fn check_name(field: &str, value: &str, max: usize) -> ApiResult<()> {
    onegrid_domain::text::check_name(value, max).map_err(|m| ApiError::field(field, m))
}
