//! Files staff upload, whatever they belong to: a case's photos and
//! documents, a dispute's agreements, a patrol finding's photos. Each shelf
//! is its own table under its owner's street (composite keys, RLS like the
//! owner), all with the same columns; the bytes live in the blob store under
//! [`StoredFile::blob_key`].

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use crate::db::Conn;
use crate::error::StoreResult;

/// Where a file belongs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shelf {
    /// A case's photos and documents.
    CaseAttachments,
    /// A dispute's documents (协议书, 笔录...).
    DisputeDocuments,
    /// A patrol finding's photos.
    FindingPhotos,
}

impl Shelf {
    /// The most files one owner holds.
    pub fn limit(self) -> usize {
        match self {
            Shelf::CaseAttachments | Shelf::DisputeDocuments => 20,
            Shelf::FindingPhotos => 10,
        }
    }

    /// The name an upload sent without one is shown under.
    pub fn default_name(self) -> &'static str {
        match self {
            Shelf::CaseAttachments => "attachment",
            Shelf::DisputeDocuments => "agreement",
            Shelf::FindingPhotos => "photo",
        }
    }

    /// What the shelf holds, as messages and limits name it.
    pub fn holds(self) -> &'static str {
        match self {
            Shelf::CaseAttachments => "attachments",
            Shelf::DisputeDocuments => "documents",
            Shelf::FindingPhotos => "photos",
        }
    }

    /// What owns the files, as messages name it.
    pub fn owner(self) -> &'static str {
        match self {
            Shelf::CaseAttachments => "case",
            Shelf::DisputeDocuments => "dispute",
            Shelf::FindingPhotos => "finding",
        }
    }
}

/// A stored file's record (the bytes live in the blob store).
#[derive(Debug, Clone, Queryable)]
pub struct StoredFile {
    /// The owner's street.
    pub street_id: Uuid,
    /// The file's id.
    pub id: Uuid,
    /// The case, dispute or finding it belongs to.
    pub owner_id: Uuid,
    /// The cleaned display name.
    pub file_name: String,
    /// The type its bytes were checked to be.
    pub content_type: String,
    /// Its size.
    pub size_bytes: i32,
    /// SHA-256 of the bytes, checked when they are served.
    pub sha256: Vec<u8>,
    /// Who uploaded it (an API key's owner for keys).
    pub uploaded_by: Uuid,
    /// When.
    pub uploaded_at: DateTime<Utc>,
}

impl StoredFile {
    /// The blob key: street, owner and file ids (ids only, as the blob
    /// store requires; owners' ids never collide across shelves).
    pub fn blob_key(&self) -> String {
        format!("{}/{}/{}", self.street_id, self.owner_id, self.id)
    }
}

/// Runs `$body` with `$t` naming the shelf's table module and `$owner` its
/// owner column: the shelves differ in nothing else.
macro_rules! on_shelf {
    ($shelf:expr, |$t:ident, $owner:ident| $body:expr) => {
        match $shelf {
            Shelf::CaseAttachments => {
                use crate::schema::case_attachments as $t;
                let $owner = $t::case_id;
                $body
            }
            Shelf::DisputeDocuments => {
                use crate::schema::dispute_documents as $t;
                let $owner = $t::dispute_id;
                $body
            }
            Shelf::FindingPhotos => {
                use crate::schema::patrol_photos as $t;
                let $owner = $t::finding_id;
                $body
            }
        }
    };
}

/// The columns of a [`StoredFile`], in its order.
macro_rules! columns {
    ($t:ident, $owner:ident) => {
        (
            $t::street_id,
            $t::id,
            $owner,
            $t::file_name,
            $t::content_type,
            $t::size_bytes,
            $t::sha256,
            $t::uploaded_by,
            $t::uploaded_at,
        )
    };
}

/// Records a file whose bytes are already stored under its blob key.
pub async fn add(conn: &mut Conn, shelf: Shelf, f: &StoredFile) -> StoreResult<()> {
    on_shelf!(shelf, |t, owner| {
        diesel::insert_into(t::table)
            .values((
                t::street_id.eq(f.street_id),
                t::id.eq(f.id),
                owner.eq(f.owner_id),
                t::file_name.eq(&f.file_name),
                t::content_type.eq(&f.content_type),
                t::size_bytes.eq(f.size_bytes),
                t::sha256.eq(&f.sha256),
                t::uploaded_by.eq(f.uploaded_by),
                t::uploaded_at.eq(f.uploaded_at),
            ))
            .execute(conn)
            .await?
    });
    Ok(())
}

/// The files of `owners` (of `streets`), in one statement, oldest first.
pub async fn of(
    conn: &mut Conn,
    shelf: Shelf,
    streets: &[Uuid],
    owners: &[Uuid],
) -> StoreResult<Vec<StoredFile>> {
    Ok(on_shelf!(shelf, |t, owner| {
        t::table
            .filter(t::street_id.eq_any(streets))
            .filter(owner.eq_any(owners))
            .select(columns!(t, owner))
            .order(t::id)
            .load(conn)
            .await?
    }))
}

/// How many files one owner holds.
pub async fn count(
    conn: &mut Conn,
    shelf: Shelf,
    street_id: Uuid,
    owner_id: Uuid,
) -> StoreResult<usize> {
    let n: i64 = on_shelf!(shelf, |t, owner| {
        t::table
            .filter(t::street_id.eq(street_id))
            .filter(owner.eq(owner_id))
            .count()
            .get_result(conn)
            .await?
    });
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

/// One file of an owner; `NotFound` if it holds no such file.
pub async fn get(
    conn: &mut Conn,
    shelf: Shelf,
    (street_id, owner_id): (Uuid, Uuid),
    id: Uuid,
) -> StoreResult<StoredFile> {
    Ok(on_shelf!(shelf, |t, owner| {
        t::table
            .filter(t::street_id.eq(street_id))
            .filter(owner.eq(owner_id))
            .filter(t::id.eq(id))
            .select(columns!(t, owner))
            .first(conn)
            .await?
    }))
}
