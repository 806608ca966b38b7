//! Photos and documents of a case: checked by their bytes (JPEG, PNG, WebP,
//! PDF), limited in size and number, stored outside the database in the blob
//! store, served back with their integrity checked.

use crate::http::input::Query;
use actix_web::web::{Data, Path, Payload};
use actix_web::{HttpRequest, HttpResponse, get, post};
use chrono::{DateTime, Utc};
use onegrid_domain::permissions::Action;
use onegrid_store::cases;
use onegrid_store::files::{self, Shelf, StoredFile};
use onegrid_store::targets::On;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::http::IdempotencyKey;
use crate::http::error::ApiResult;
use crate::http::upload::{hex, read, shelve};
use crate::platform::auth::Caller;
use crate::state::{AppState, Created};

/// An attachment's record.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentView {
    pub id: Uuid,
    pub case_id: Uuid,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i32,
    /// Hex SHA-256 of the bytes.
    pub sha256: String,
    pub uploaded_by: Uuid,
    pub uploaded_at: DateTime<Utc>,
}

fn attachment_view(a: &StoredFile) -> AttachmentView {
    AttachmentView {
        id: a.id,
        case_id: a.owner_id,
        file_name: a.file_name.clone(),
        content_type: a.content_type.clone(),
        size_bytes: a.size_bytes,
        sha256: hex(&a.sha256),
        uploaded_by: a.uploaded_by,
        uploaded_at: a.uploaded_at,
    }
}

/// The upload's display name.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    /// Shown to staff (paths and markup are stripped); defaults to `attachment`.
    pub name: Option<String>,
}

/// Attach a photo or document to a case
///
/// The body is the file itself with its Content-Type: `image/jpeg`,
/// `image/png`, `image/webp` or `application/pdf`, which must match what the
/// bytes are. At most `ONEGRID_ATTACHMENT_MAX_BYTES` (10 MB by default; 413
/// above) and 20 per case. The bytes are stored outside the database.
#[utoipa::path(tag = "cases", params(("case_id" = Uuid, Path, description = "Case id"), UploadQuery), request_body(content = Vec<u8>, content_type = "image/jpeg", description = "The file (JPEG, PNG, WebP or PDF)"), responses((status = 201, body = AttachmentView)))]
#[post("/cases/{case_id}/attachments")]
pub async fn upload_attachment(
    state: Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: Path<Uuid>,
    q: Query<UploadQuery>,
    key: IdempotencyKey,
    payload: Payload,
) -> ApiResult<HttpResponse> {
    let case_id = id.into_inner();
    let permitted = crate::http::permit_row(&state, &caller, Action::CaseWork, move |c| {
        Box::pin(cases::get_case(c, case_id))
    })
    .await?;
    let name = q.into_inner().name;
    let shelf = Shelf::CaseAttachments;
    let upload = read(&state, &req, payload, name, shelf, &permitted).await?;
    let sum = hex(&upload.sha256);
    let hash = crate::http::request_hash(&serde_json::json!((case_id, sum, &upload.name)));
    let st = state.clone();
    state
        .create(
            caller,
            (Action::CaseWork, On::Case(case_id)),
            (key, hash),
            move |c, p, _| {
                Box::pin(async move {
                    let case = cases::get_case(c, case_id).await?;
                    let owner = (case.street_id, case.id);
                    let by = p.accountable_user();
                    let file = shelve(&st, c, shelf, owner, upload, by).await?;
                    let location = format!("/api/v1/cases/{}/attachments/{}", case.id, file.id);
                    Created::new(attachment_view(&file), location, None)
                })
            },
        )
        .await
}

/// List a case's attachments
///
/// Their names, types, sizes and checksums, oldest first.
#[utoipa::path(tag = "cases", params(("case_id" = Uuid, Path, description = "Case id")), responses((status = 200, body = Vec<AttachmentView>)))]
#[get("/cases/{case_id}/attachments")]
pub async fn list_attachments(
    state: Data<AppState>,
    caller: Caller,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let case_id = id.into_inner();
    let rows = state
        .on_row(
            caller,
            Action::CaseRead,
            move |c| Box::pin(cases::get_case(c, case_id)),
            move |c, _, case| {
                Box::pin(async move {
                    Ok(files::of(c, Shelf::CaseAttachments, &[case.street_id], &[case.id]).await?)
                })
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(attachment_view).collect::<Vec<_>>()))
}

/// Download an attachment
///
/// The stored bytes with their content type, as a download; the SHA-256 is
/// checked on the way out.
#[utoipa::path(tag = "cases", params(("case_id" = Uuid, Path, description = "Case id"), ("attachment_id" = Uuid, Path, description = "Attachment id")), responses((status = 200, description = "The file", content((Vec<u8> = "image/jpeg"), (Vec<u8> = "image/png"), (Vec<u8> = "image/webp"), (Vec<u8> = "application/pdf")))))]
#[get("/cases/{case_id}/attachments/{attachment_id}")]
pub async fn download_attachment(
    state: Data<AppState>,
    caller: Caller,
    ids: Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (case_id, attachment_id) = ids.into_inner();
    crate::http::upload::download(
        &state,
        caller,
        (Action::CaseRead, Shelf::CaseAttachments),
        move |c| Box::pin(cases::get_case(c, case_id)),
        |case| (case.street_id, case.id),
        attachment_id,
    )
    .await
}
