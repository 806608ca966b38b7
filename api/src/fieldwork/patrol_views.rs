//! What a patrol log looks like to its reader (visits, findings, photos),
//! loaded for a page in a bounded number of statements; the rule that only
//! its keeper writes a log.

use chrono::{DateTime, NaiveDate, Utc};
use onegrid_store::fieldwork::patrols::{self, Finding, Log, Visit};
use onegrid_store::files::{self, Shelf, StoredFile};
use onegrid_store::{Conn, StoreError};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::error::{ApiError, ApiResult};
use crate::http::upload::hex;
use onegrid_domain::geo::Point;

/// A household visited.
#[derive(Debug, Serialize, ToSchema)]
pub struct VisitView {
    pub id: Uuid,
    pub household_id: Uuid,
    pub purpose: String,
    pub service_mode: Option<String>,
    pub notes: Option<String>,
    pub next_visit_on: Option<NaiveDate>,
    pub at: DateTime<Utc>,
}

/// A photo of a finding.
#[derive(Debug, Serialize, ToSchema)]
pub struct PhotoView {
    pub id: Uuid,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i32,
    pub sha256: String,
    pub uploaded_at: DateTime<Utc>,
}

/// Something found on patrol.
#[derive(Debug, Serialize, ToSchema)]
pub struct FindingView {
    pub id: Uuid,
    pub log_id: Uuid,
    pub description: String,
    pub location: Option<Point>,
    pub address: Option<String>,
    /// The case it became (tracked), if any.
    pub case_id: Option<Uuid>,
    pub photos: Vec<PhotoView>,
    pub at: DateTime<Utc>,
}

/// A day's patrol log.
#[derive(Debug, Serialize, ToSchema)]
pub struct LogView {
    pub id: Uuid,
    pub worker_id: Uuid,
    pub street_id: Uuid,
    pub community_id: Uuid,
    pub grid_id: Uuid,
    pub day: NaiveDate,
    pub check_in_at: Option<DateTime<Utc>>,
    pub check_out_at: Option<DateTime<Utc>>,
    /// A GeoJSON LineString.
    #[schema(value_type = Option<Object>)]
    pub track: Option<serde_json::Value>,
    pub notes: Option<String>,
    pub visits: Vec<VisitView>,
    pub findings: Vec<FindingView>,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

pub(crate) fn visit_view(v: Visit) -> VisitView {
    VisitView {
        id: v.id,
        household_id: v.household_id,
        purpose: v.purpose,
        service_mode: v.service_mode,
        notes: v.notes,
        next_visit_on: v.next_visit_on,
        at: v.at,
    }
}

pub(crate) fn photo_view(p: &StoredFile) -> PhotoView {
    PhotoView {
        id: p.id,
        file_name: p.file_name.clone(),
        content_type: p.content_type.clone(),
        size_bytes: p.size_bytes,
        sha256: hex(&p.sha256),
        uploaded_at: p.uploaded_at,
    }
}

/// The photos of a finding.
pub(crate) async fn photos_of(c: &mut Conn, f: &Finding) -> ApiResult<Vec<StoredFile>> {
    Ok(files::of(c, Shelf::FindingPhotos, &[f.street_id], &[f.id]).await?)
}

pub(crate) fn finding_view(f: Finding, photos: &[StoredFile]) -> FindingView {
    FindingView {
        id: f.id,
        log_id: f.log_id,
        location: f.lon.zip(f.lat).map(|(lon, lat)| Point { lon, lat }),
        photos: photos
            .iter()
            .filter(|p| p.owner_id == f.id)
            .map(photo_view)
            .collect(),
        description: f.description,
        address: f.address,
        case_id: f.case_id,
        at: f.at,
    }
}

pub(crate) async fn log_view(c: &mut Conn, log: Log) -> ApiResult<LogView> {
    let mut views = log_views(c, vec![log]).await?;
    views.pop().ok_or_else(ApiError::not_found)
}

/// Views of `logs` with their visits, findings and photos: four statements
/// whatever the number of logs.
pub(crate) async fn log_views(c: &mut Conn, logs: Vec<Log>) -> ApiResult<Vec<LogView>> {
    if logs.is_empty() {
        return Ok(Vec::new());
    }
    let visits = patrols::visits(c, &logs).await?;
    let findings = patrols::findings(c, &logs).await?;
    let (streets, ids): (Vec<Uuid>, Vec<Uuid>) =
        findings.iter().map(|f| (f.street_id, f.id)).unzip();
    let photos = files::of(c, Shelf::FindingPhotos, &streets, &ids).await?;
    Ok(logs
        .into_iter()
        .map(|log| LogView {
            id: log.id,
            worker_id: log.worker_id,
            street_id: log.street_id,
            community_id: log.community_id,
            grid_id: log.grid_id,
            day: log.day,
            check_in_at: log.check_in_at,
            check_out_at: log.check_out_at,
            track: log.track,
            notes: log.notes,
            visits: visits
                .iter()
                .filter(|v| v.log_id == log.id)
                .cloned()
                .map(visit_view)
                .collect(),
            findings: findings
                .iter()
                .filter(|f| f.log_id == log.id)
                .cloned()
                .map(|f| finding_view(f, &photos))
                .collect(),
            version: log.version,
            updated_at: log.updated_at,
        })
        .collect())
}

/// The log a finding was recorded in.
pub(crate) async fn finding_log(c: &mut Conn, finding_id: Uuid) -> Result<Log, StoreError> {
    let finding = patrols::get_finding(c, finding_id).await?;
    patrols::get(c, finding.log_id).await
}
