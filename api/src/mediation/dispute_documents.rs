//! A dispute's documents (协议书, 笔录...): uploaded and downloaded by those
//! who may work the dispute.

use crate::http::input::Query;
use actix_web::web::{Data, Path, Payload};
use actix_web::{HttpRequest, HttpResponse, get, post};
use onegrid_domain::permissions::Action;
use onegrid_store::files::Shelf;
use onegrid_store::mediation::disputes;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::dispute_views::{DocumentView, document_view};
use crate::http::error::ApiResult;
use crate::http::upload::Incoming;
use crate::platform::auth::Caller;
use crate::state::AppState;

/// The upload's display name.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DocumentQuery {
    /// Shown to staff; defaults to `agreement`.
    pub name: Option<String>,
}

/// Attach a document to a dispute
///
/// The mediation agreement (调解协议书), a scan or PDF: the body is the file
/// with its Content-Type (JPEG, PNG, WebP or PDF, matching the bytes), at
/// most `ONEGRID_ATTACHMENT_MAX_BYTES`. Name it in a session's outcome.
#[utoipa::path(tag = "mediation", params(("dispute_id" = Uuid, Path, description = "Dispute id"), DocumentQuery), request_body(content = Vec<u8>, content_type = "application/pdf", description = "The file (JPEG, PNG, WebP or PDF)"), responses((status = 201, body = DocumentView)))]
#[post("/disputes/{dispute_id}/documents")]
pub async fn upload_document(
    state: Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: Path<Uuid>,
    q: Query<DocumentQuery>,
    payload: Payload,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let incoming = Incoming {
        req,
        payload,
        name: q.into_inner().name,
    };
    let doc = crate::http::upload::attach(
        &state,
        caller,
        (Action::DisputeRecord, Shelf::DisputeDocuments),
        incoming,
        move |c| Box::pin(disputes::get(c, id)),
        |_, _, d| Box::pin(async move { Ok((d.street_id, d.id)) }),
    )
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            "location",
            format!("/api/v1/disputes/{}/documents/{}", doc.owner_id, doc.id),
        ))
        .json(document_view(&doc)))
}

/// Download a dispute's document
///
/// The stored bytes, checked against their SHA-256 on the way out.
#[utoipa::path(tag = "mediation", params(("dispute_id" = Uuid, Path, description = "Dispute id"), ("document_id" = Uuid, Path, description = "Document id")), responses((status = 200, description = "The file", content((Vec<u8> = "application/pdf"), (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/png"), (Vec<u8> = "image/webp")))))]
#[get("/disputes/{dispute_id}/documents/{document_id}")]
pub async fn download_document(
    state: Data<AppState>,
    caller: Caller,
    ids: Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (id, document_id) = ids.into_inner();
    crate::http::upload::download(
        &state,
        caller,
        (Action::DisputeRead, Shelf::DisputeDocuments),
        move |c| Box::pin(disputes::get(c, id)),
        |d| (d.street_id, d.id),
        document_id,
    )
    .await
}
