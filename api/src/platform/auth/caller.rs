//! The `Caller` extractor: the request's credential, cryptographically checked.
//! The database check (session alive, user enabled, grants) happens in the
//! request's transaction, see [`crate::state::AppState::checked`]. Missing or
//! invalid credentials are a 401 here, never a silent anonymous caller.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::Data;
use actix_web::{FromRequest, HttpRequest};
use onegrid_store::platform::auth::api_keys;
use onegrid_store::scope::Session;

use crate::http::error::ApiError;
use crate::state::AppState;

/// A request's verified credential.
#[derive(Debug, Clone)]
pub struct Caller(pub Session);

/// Header carrying an API key (alternative to `Authorization: Bearer ogk_…`).
pub const API_KEY_HEADER: &str = "x-api-key";

fn extract(req: &HttpRequest) -> Result<Caller, ApiError> {
    let state = req
        .app_data::<Data<AppState>>()
        .ok_or_else(|| ApiError::new(crate::http::error::Code::Internal, "no state"))?;
    let bearer = req.headers().get(header::AUTHORIZATION).map(|v| {
        v.to_str()
            .ok()
            .and_then(|s| s.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or(())
    });
    let key_header = req
        .headers()
        .get(API_KEY_HEADER)
        .map(|v| v.to_str().map(str::trim).map_err(|_| ()));
    let token = match (bearer, key_header) {
        (None, None) => return Err(ApiError::unauthenticated()),
        (Some(Err(())), _) | (_, Some(Err(()))) => {
            return Err(ApiError::invalid_token("malformed credential header"));
        }
        (Some(Ok(_)), Some(Ok(_))) => {
            return Err(ApiError::invalid_token("send one credential, not two"));
        }
        (Some(Ok(t)), None) | (None, Some(Ok(t))) => t,
    };
    if token.starts_with(api_keys::PREFIX) {
        let (key_id, secret) =
            api_keys::parse(token).ok_or_else(|| ApiError::invalid_token("malformed API key"))?;
        return Ok(Caller(Session::ApiKey { key_id, secret }));
    }
    let claims = state
        .tokens
        .verify(token, state.clock.now().timestamp())
        .map_err(|e| ApiError::invalid_token(&format!("access token refused: {e}")))?;
    Ok(Caller(Session::User {
        user_id: claims.sub,
        session_id: claims.sid,
        district_id: claims.dst,
    }))
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Caller, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(extract(req))
    }
}
