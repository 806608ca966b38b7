//! Files staff upload (case attachments, dispute documents, finding photos):
//! the declared type must be one we keep and must match the bytes, the name
//! is cleaned, the size limited as the bytes arrive, the owner's shelf
//! limited in number; served back with their checksum verified, as a
//! download that browsers do not sniff.

use actix_web::http::header;
use actix_web::web::{Data, Payload};
use actix_web::{HttpRequest, HttpResponse};
use onegrid_domain::files::{ATTACHMENT_TYPES, clean_name, sniff};
use sha2::{Digest, Sha256};

use futures_util::future::BoxFuture;
use onegrid_domain::permissions::Action;
use onegrid_store::files::{self, Shelf, StoredFile};
use onegrid_store::targets::Guarded;
use onegrid_store::{Conn, Principal, StoreError};
use uuid::Uuid;

use crate::http::Permitted;
use crate::http::error::{ApiError, ApiResult, Code};
use crate::platform::auth::Caller;
use crate::state::AppState;

/// An upload as it arrives: the request (for its Content-Type and length),
/// the body, and the display name asked for.
pub struct Incoming {
    /// The request.
    pub req: HttpRequest,
    /// Its body, not yet read.
    pub payload: Payload,
    /// The `name` query parameter.
    pub name: Option<String>,
}

/// Takes an upload onto `shelf` for the row `load` finds. `action` is
/// proven on the row before a byte is read; then, in the request's
/// transaction, `owner` names the owner's (street, id), refusing if it must,
/// and the file is shelved there by the caller.
pub async fn attach<R, L, O>(
    state: &Data<AppState>,
    caller: Caller,
    (action, shelf): (Action, Shelf),
    incoming: Incoming,
    load: L,
    owner: O,
) -> ApiResult<StoredFile>
where
    R: Guarded + Send + 'static,
    L: for<'c> FnOnce(&'c mut Conn) -> BoxFuture<'c, Result<R, StoreError>>
        + Clone
        + Send
        + 'static,
    O: for<'c> FnOnce(&'c mut Conn, &'c Principal, R) -> BoxFuture<'c, ApiResult<(Uuid, Uuid)>>
        + Send
        + 'static,
{
    let permitted = crate::http::permit_row(state, &caller, action, load.clone()).await?;
    let Incoming { req, payload, name } = incoming;
    let upload = read(state, &req, payload, name, shelf, &permitted).await?;
    let st = Data::clone(state);
    state
        .on_row(caller, action, load, move |c, p, row| {
            Box::pin(async move {
                let at = owner(c, &p, row).await?;
                shelve(&st, c, shelf, at, upload, p.accountable_user()).await
            })
        })
        .await
}

/// Serves file `id` of `shelf` held by the row `load` finds (its owner's
/// (street, id) given by `owner`), once `action` is proven on the row.
pub async fn download<R, L>(
    state: &AppState,
    caller: Caller,
    (action, shelf): (Action, Shelf),
    load: L,
    owner: fn(&R) -> (Uuid, Uuid),
    id: Uuid,
) -> ApiResult<HttpResponse>
where
    R: Guarded + Send + 'static,
    L: for<'c> FnOnce(&'c mut Conn) -> BoxFuture<'c, Result<R, StoreError>> + Send + 'static,
{
    let file = state
        .on_row(caller, action, load, move |c, _, row| {
            Box::pin(async move { Ok(files::get(c, shelf, owner(&row), id).await?) })
        })
        .await?;
    serve(state, &file).await
}

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

/// Reads and checks an upload for `shelf` named `name` (or the shelf's
/// default name), once the caller is [`Permitted`].
pub async fn read(
    state: &AppState,
    req: &HttpRequest,
    payload: Payload,
    name: Option<String>,
    shelf: Shelf,
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
        None => shelf.default_name().to_owned(),
    };
    let bytes = crate::http::read_body(
        req,
        payload,
        state.config.attachment_max_bytes,
        shelf.holds(),
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

/// Shelves `upload` under `owner` (its street and id) by `by`, in the
/// caller's transaction: 409 once the owner holds its shelf's limit. The
/// bytes go to the blob store first; if the row then fails, they are removed
/// again so nothing is left behind.
pub async fn shelve(
    state: &AppState,
    c: &mut Conn,
    shelf: Shelf,
    (street_id, owner_id): (Uuid, Uuid),
    upload: Upload,
    by: Uuid,
) -> ApiResult<StoredFile> {
    if files::count(c, shelf, street_id, owner_id).await? >= shelf.limit() {
        return Err(ApiError::new(
            Code::Conflict,
            format!(
                "a {} holds at most {} {}",
                shelf.owner(),
                shelf.limit(),
                shelf.holds()
            ),
        ));
    }
    let file = StoredFile {
        street_id,
        id: Uuid::now_v7(),
        owner_id,
        file_name: upload.name,
        content_type: upload.content_type,
        size_bytes: upload.size,
        sha256: upload.sha256,
        uploaded_by: by,
        uploaded_at: state.clock.now(),
    };
    let key = file.blob_key();
    state
        .blobs
        .put(&key, &upload.bytes)
        .await
        .map_err(|e| ApiError::new(Code::Unavailable, format!("blob store: {e}")))?;
    if let Err(e) = files::add(c, shelf, &file).await {
        let _ = state.blobs.delete(&key).await;
        return Err(e.into());
    }
    Ok(file)
}

/// Serves a stored file's bytes after checking them against its checksum.
pub async fn serve(state: &AppState, file: &StoredFile) -> ApiResult<HttpResponse> {
    let key = file.blob_key();
    let bytes = state
        .blobs
        .get(&key)
        .await
        .map_err(|e| ApiError::new(Code::Unavailable, format!("blob store: {e}")))?;
    if Sha256::digest(&bytes).as_slice() != file.sha256 {
        return Err(ApiError::new(
            Code::Internal,
            format!("{key} does not match its checksum"),
        ));
    }
    let ascii_name: String = file
        .file_name
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
        .insert_header((header::CONTENT_TYPE, file.content_type.clone()))
        .insert_header(("x-content-type-options", "nosniff"))
        .insert_header(("cache-control", "private, no-store"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{ascii_name}\""),
        ))
        .body(bytes))
}
