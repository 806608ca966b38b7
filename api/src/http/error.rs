//! The one error catalogue: stable code → HTTP status → title, rendered as
//! RFC 9457 `application/problem+json`. Codes are API contract. 5xx bodies are
//! generic; their cause goes to the log with the request id.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use onegrid_store::{StoreError, ViolationKind};
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::request_id;

macro_rules! catalogue {
    ($($variant:ident => ($code:literal, $status:literal, $title:literal),)*) => {
        /// Stable error codes.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Code { $($variant,)* }

        impl Code {
            /// Every code, for the published catalogue.
            pub const ALL: &[Code] = &[$(Code::$variant,)*];

            pub const fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code,)* }
            }

            pub const fn status_u16(self) -> u16 {
                match self { $(Code::$variant => $status,)* }
            }

            pub const fn title(self) -> &'static str {
                match self { $(Code::$variant => $title,)* }
            }
        }
    };
}

catalogue! {
    MalformedJson => ("malformed_json", 400, "The body is not valid JSON"),
    InvalidParameter => ("invalid_parameter", 400, "A path or query parameter is invalid"),
    Unauthenticated => ("unauthenticated", 401, "Authentication is required"),
    InvalidToken => ("invalid_token", 401, "The credential is invalid, expired or revoked"),
    InvalidCredentials => ("invalid_credentials", 401, "Wrong username or password"),
    RefreshTokenReused => ("refresh_token_reused", 401, "The refresh token was already used; the session is revoked"),
    Forbidden => ("forbidden", 403, "You lack the permission for this action here"),
    BreakGlassRequired => ("break_glass_required", 403, "This protected ledger is outside your scope: break the glass first"),
    NotFound => ("not_found", 404, "No such resource in your scope"),
    MethodNotAllowed => ("method_not_allowed", 405, "Method not allowed"),
    Conflict => ("conflict", 409, "The resource conflicts with an existing one"),
    IllegalTransition => ("illegal_transition", 409, "This step is not allowed in the case's current state"),
    VersionMismatch => ("version_mismatch", 412, "The resource changed since you read it"),
    PayloadTooLarge => ("payload_too_large", 413, "The body is too large"),
    UnsupportedMediaType => ("unsupported_media_type", 415, "Send application/json"),
    ValidationFailed => ("validation_failed", 422, "The request has invalid fields"),
    InvalidReference => ("invalid_reference", 422, "A referenced resource does not exist in your scope"),
    IdempotencyKeyReused => ("idempotency_key_reused", 422, "The Idempotency-Key was used for a different request"),
    PreconditionRequired => ("precondition_required", 428, "Send If-Match with the ETag you read"),
    TooManyRequests => ("too_many_requests", 429, "Too many requests"),
    Internal => ("internal", 500, "Internal error"),
    Unavailable => ("unavailable", 503, "A dependency is unavailable; retry later"),
}

impl Code {
    pub fn status(self) -> StatusCode {
        StatusCode::from_u16(self.status_u16()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The problem `type` URI (served at that path).
    pub fn type_uri(self) -> String {
        format!("/problems/{}", self.as_str())
    }
}

/// One invalid field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// JSON pointer-ish path of the field, e.g. `code` or `boundary.coordinates`.
    pub field: String,
    pub message: String,
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// URI identifying the problem type (`/problems/{code}`).
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable code.
    pub code: String,
    /// The request id, also in the `X-Request-Id` header and the logs.
    pub request_id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// For `illegal_transition`: the steps allowed in the current state.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allowed: Vec<String>,
}

/// Seconds a client waits before retrying a 503 `unavailable`.
pub const RETRY_UNAVAILABLE: &str = "5";

/// An error answered as problem+json.
#[derive(Debug)]
pub struct ApiError {
    pub code: Code,
    pub detail: String,
    pub errors: Vec<FieldError>,
    /// Steps allowed instead (for `illegal_transition`).
    pub allowed: Vec<String>,
    /// Extra response headers (`WWW-Authenticate`, `Retry-After`, `Allow`).
    pub headers: Vec<(header::HeaderName, String)>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(code: Code, detail: impl Into<String>) -> ApiError {
        ApiError {
            code,
            detail: detail.into(),
            errors: Vec::new(),
            allowed: Vec::new(),
            headers: Vec::new(),
        }
    }

    pub fn with_header(mut self, name: header::HeaderName, value: impl Into<String>) -> ApiError {
        self.headers.push((name, value.into()));
        self
    }

    /// 422 with one field error.
    pub fn field(field: &str, message: impl Into<String>) -> ApiError {
        ApiError::fields(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    /// 422 with several field errors.
    pub fn fields(errors: Vec<FieldError>) -> ApiError {
        let detail = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        ApiError {
            errors,
            ..ApiError::new(Code::ValidationFailed, detail)
        }
    }

    /// 409 for a lifecycle step not allowed now, listing those that are.
    pub fn illegal(e: &onegrid_domain::cases::Illegal) -> ApiError {
        ApiError {
            allowed: e.allowed.iter().map(|s| s.as_str().to_owned()).collect(),
            ..ApiError::new(Code::IllegalTransition, e.to_string())
        }
    }

    pub fn not_found() -> ApiError {
        ApiError::new(Code::NotFound, "no such resource in your scope")
    }

    pub fn forbidden(permission: &str) -> ApiError {
        ApiError::new(
            Code::Forbidden,
            format!("this needs the `{permission}` permission over the resource"),
        )
    }

    /// 401 for a missing credential.
    pub fn unauthenticated() -> ApiError {
        ApiError::new(
            Code::Unauthenticated,
            "send Authorization: Bearer <access token> or X-API-Key",
        )
        .with_header(header::WWW_AUTHENTICATE, "Bearer realm=\"onegrid\"")
    }

    /// 401 for a credential that was refused.
    pub fn invalid_token(detail: &str) -> ApiError {
        ApiError::new(Code::InvalidToken, detail).with_header(
            header::WWW_AUTHENTICATE,
            "Bearer realm=\"onegrid\", error=\"invalid_token\"",
        )
    }

    pub fn problem(&self) -> Problem {
        let generic = self.code.status().is_server_error();
        Problem {
            type_uri: self.code.type_uri(),
            title: self.code.title().to_owned(),
            status: self.code.status_u16(),
            detail: if generic {
                self.code.title().to_owned()
            } else {
                self.detail.clone()
            },
            code: self.code.as_str().to_owned(),
            request_id: request_id::current(),
            errors: self.errors.clone(),
            allowed: self.allowed.clone(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.detail)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    fn error_response(&self) -> HttpResponse {
        if self.code.status().is_server_error() {
            tracing::error!(code = self.code.as_str(), cause = %self.detail, request_id = %request_id::current(), "request failed");
        }
        let mut res = HttpResponse::build(self.code.status());
        res.insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        ));
        for (name, value) in &self.headers {
            if let Ok(v) = HeaderValue::from_str(value) {
                res.insert_header((name.clone(), v));
            }
        }
        // A dependency that is down is worth a retry in a few seconds.
        if self.code == Code::Unavailable
            && !self
                .headers
                .iter()
                .any(|(name, _)| name == header::RETRY_AFTER)
        {
            res.insert_header((
                header::RETRY_AFTER,
                HeaderValue::from_static(RETRY_UNAVAILABLE),
            ));
        }
        res.body(serde_json::to_string(&self.problem()).unwrap_or_default())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::NotFound => ApiError::not_found(),
            StoreError::VersionMismatch { current } => ApiError::new(
                Code::VersionMismatch,
                format!("the resource is at version \"{current}\"; read it again"),
            )
            .with_header(header::ETAG, format!("\"{current}\"")),
            StoreError::Unauthenticated(failure) => ApiError::invalid_token(failure.detail()),
            StoreError::RefreshReuse => ApiError::new(Code::RefreshTokenReused, "log in again"),
            StoreError::Violation(v) if v.kind == ViolationKind::Unique => {
                let field = v.field();
                let mut err = ApiError::new(
                    Code::Conflict,
                    format!("another resource already has this {field}"),
                );
                err.errors.push(FieldError {
                    field: field.into(),
                    message: "already taken".into(),
                });
                err
            }
            StoreError::Violation(v) if v.kind == ViolationKind::ForeignKey => ApiError::new(
                Code::InvalidReference,
                format!("{} does not exist in your scope", v.field()),
            ),
            StoreError::Violation(v) => {
                ApiError::field(v.field(), format!("violates {}", v.constraint))
            }
            StoreError::Check(c) => ApiError::field("body", format!("violates {c}")),
            StoreError::Unavailable(cause) => ApiError::new(Code::Unavailable, cause),
            StoreError::Database(e) => ApiError::new(Code::Internal, e.to_string()),
        }
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> ApiError {
        StoreError::from(e).into()
    }
}

impl ApiError {
    /// Replaces the detail.
    pub fn with_detail(mut self, detail: impl Into<String>) -> ApiError {
        self.detail = detail.into();
        self
    }
}

/// Maps "not found" on a row named in a request body to 422 `invalid_reference`
/// on `field` (the row does not exist, or lies outside the caller's scope).
pub fn reference(field: &str) -> impl Fn(StoreError) -> ApiError + '_ {
    move |e| match e {
        StoreError::NotFound => {
            let mut err = ApiError::new(
                Code::InvalidReference,
                format!("{field} does not exist in your scope"),
            );
            err.errors.push(FieldError {
                field: field.into(),
                message: "not found in your scope".into(),
            });
            err
        }
        other => other.into(),
    }
}

/// A refused permission is a 403 naming the permission.
impl From<onegrid_domain::principal::Forbidden> for ApiError {
    fn from(refused: onegrid_domain::principal::Forbidden) -> ApiError {
        ApiError::forbidden(refused.permission)
    }
}
