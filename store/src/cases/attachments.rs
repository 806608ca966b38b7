//! A case's attachments: metadata here, bytes in the blob store.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::Case;
use crate::db::Conn;
use crate::error::StoreResult;
use crate::schema::case_attachments;

/// An attachment's record (the bytes live in the blob store).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = case_attachments)]
pub struct Attachment {
    pub street_id: Uuid,
    pub id: Uuid,
    pub case_id: Uuid,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i32,
    pub sha256: Vec<u8>,
    pub uploaded_by: Uuid,
    pub uploaded_at: DateTime<Utc>,
}

impl Attachment {
    /// The blob key: street, case and attachment ids.
    pub fn blob_key(&self) -> String {
        blob_key(self.street_id, self.case_id, self.id)
    }
}

/// The blob key of an attachment.
pub fn blob_key(street_id: Uuid, case_id: Uuid, id: Uuid) -> String {
    format!("{street_id}/{case_id}/{id}")
}

/// Records an attachment whose bytes are already stored under [`blob_key`].
pub async fn add_attachment(conn: &mut Conn, a: &Attachment) -> StoreResult<()> {
    diesel::insert_into(case_attachments::table)
        .values((
            case_attachments::street_id.eq(a.street_id),
            case_attachments::id.eq(a.id),
            case_attachments::case_id.eq(a.case_id),
            case_attachments::file_name.eq(&a.file_name),
            case_attachments::content_type.eq(&a.content_type),
            case_attachments::size_bytes.eq(a.size_bytes),
            case_attachments::sha256.eq(&a.sha256),
            case_attachments::uploaded_by.eq(a.uploaded_by),
            case_attachments::uploaded_at.eq(a.uploaded_at),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn attachments_of(conn: &mut Conn, case: &Case) -> StoreResult<Vec<Attachment>> {
    Ok(case_attachments::table
        .filter(case_attachments::street_id.eq(case.street_id))
        .filter(case_attachments::case_id.eq(case.id))
        .select(Attachment::as_select())
        .order(case_attachments::id)
        .load(conn)
        .await?)
}

pub async fn get_attachment(conn: &mut Conn, case: &Case, id: Uuid) -> StoreResult<Attachment> {
    Ok(case_attachments::table
        .filter(case_attachments::street_id.eq(case.street_id))
        .filter(case_attachments::case_id.eq(case.id))
        .filter(case_attachments::id.eq(id))
        .select(Attachment::as_select())
        .first(conn)
        .await?)
}
