//! Files staff upload (case attachments, dispute documents): the declared
//! type must be one we keep and must match the bytes, the name is cleaned,
//! the size limited as the bytes arrive; served back with their checksum
//! verified, as a download that browsers do not sniff.

use actix_web::http::header;
use actix_web::web::Payload;
use actix_web::{HttpRequest, HttpResponse};
use onegrid_domain::files::{ATTACHMENT_TYPES, clean_name, sniff};
use sha2::{Digest, Sha256};

use crate::http::Permitted;
use crate::http::error::{ApiError, ApiResult, Code};
use crate::state::AppState;
use onegrid_store::error::StoreResult;

/// A checked upload.
#[derive(Debug)]
pub struct Upload {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
    pub size: i32,
    pub sha256: Vec<u8>,
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads and checks an upload named `name` (or `fallback`), counting toward
/// `what`'s limit, once the caller is [`Permitted`].
pub async fn read(
    state: &AppState,
    req: &HttpRequest,
    payload: Payload,
    name: Option<String>,
    fallback: &str,
    what: &'static str,
    permitted: &Permitted,
) -> ApiResult<Upload> {
    let declared = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    if !ATTACHMENT_TYPES.contains(&declared.as_str()) {
        return Err(ApiError::new(
            Code::UnsupportedMediaType,
            format!("send one of {}", ATTACHMENT_TYPES.join(", ")),
        ));
    }
    let name = match name {
        Some(raw) => {
            clean_name(&raw).ok_or_else(|| ApiError::field("name", "no usable file name"))?
        }
        None => fallback.to_owned(),
    };
    let bytes = crate::http::read_body(
        req,
        payload,
        state.config.attachment_max_bytes,
        what,
        permitted,
    )
    .await?;
    match sniff(&bytes) {
        Some(actual) if actual == declared => {}
        Some(actual) => {
            return Err(ApiError::field(
                "file",
                format!("the bytes are {actual}, not {declared}"),
            ));
        }
        None => {
            return Err(ApiError::field(
                "file",
                "the bytes are not a JPEG, PNG, WebP or PDF",
            ));
        }
    }
    let size = i32::try_from(bytes.len())
        .map_err(|_| ApiError::new(Code::PayloadTooLarge, "too large"))?;
    let sha256 = Sha256::digest(&bytes).to_vec();
    Ok(Upload {
        name,
        content_type: declared,
        bytes,
        size,
        sha256,
    })
}

/// Puts the bytes in the blob store under `key`, then awaits `record` (the
/// row that names them, in the caller's transaction); if the row fails, the
/// bytes are removed again so nothing is left behind.
pub async fn keep(
    state: &AppState,
    key: &str,
    bytes: &[u8],
    record: impl std::future::Future<Output = StoreResult<()>>,
) -> ApiResult<()> {
    state
        .blobs
        .put(key, bytes)
        .await
        .map_err(|e| ApiError::new(Code::Unavailable, format!("blob store: {e}")))?;
    if let Err(e) = record.await {
        let _ = state.blobs.delete(key).await;
        return Err(e.into());
    }
    Ok(())
}

/// Serves stored bytes after checking them against their checksum.
pub async fn serve(
    state: &AppState,
    key: &str,
    sha256: &[u8],
    content_type: &str,
    file_name: &str,
) -> ApiResult<HttpResponse> {
    let bytes = state
        .blobs
        .get(key)
        .await
        .map_err(|e| ApiError::new(Code::Unavailable, format!("blob store: {e}")))?;
    if Sha256::digest(&bytes).as_slice() != sha256 {
        return Err(ApiError::new(
            Code::Internal,
            format!("{key} does not match its checksum"),
        ));
    }
    let ascii_name: String = file_name
        .chars()
        .map(|ch| {
            if ch.is_ascii_alphanumeric() || ".-_".contains(ch) {
                ch
            } else {
                '_'
            }
        })
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type.to_owned()))
        .insert_header(("x-content-type-options", "nosniff"))
        .insert_header(("cache-control", "private, no-store"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{ascii_name}\""),
        ))
        .body(bytes))
}
