//! The use cases of recording a dispute with its parties and of revealing a
//! party's phone: a party is a resident of the registry the caller may read,
//! or a person or organisation by name; phones are sealed at once and
//! revealed only with a purpose, rate-limited and audited. They know no HTTP.

use chrono::{DateTime, Utc};
use onegrid_domain::mediation::{Kind, Level};
use onegrid_domain::permissions::Target;
use onegrid_store::crypto::FieldKeys;
use onegrid_store::mediation::disputes::{self, Dispute, NewDispute, NewParty, Refused};
use onegrid_store::{Conn, Principal, StoreError, cases, platform::audit, registry::households};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::error::{ApiError, ApiResult, Code, FieldError, reference};
use crate::platform::auth::throttle::RevealQuota;

/// A party to record: a resident of the registry, or a person or organisation by name.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartyBody {
    /// applicant, respondent or other.
    pub role: PartyRole,
    pub resident_id: Option<Uuid>,
    /// For a person or organisation (a resident's name comes from the registry).
    pub name: Option<String>,
    /// Organisation rather than person (ignored for a resident).
    #[serde(default)]
    pub organisation: bool,
    /// Sealed at once; shown masked.
    pub phone: Option<String>,
}

/// A party's side.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PartyRole {
    Applicant,
    Respondent,
    Other,
}

impl PartyRole {
    const fn as_str(self) -> &'static str {
        match self {
            PartyRole::Applicant => "applicant",
            PartyRole::Respondent => "respondent",
            PartyRole::Other => "other",
        }
    }
}

/// A dispute to record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisputeBody {
    /// The grid it arose in (or give `community_id`).
    pub grid_id: Option<Uuid>,
    pub community_id: Option<Uuid>,
    pub kind: Kind,
    /// Where it is handled first (default: grid with a grid, else community).
    pub level: Option<Level>,
    pub summary: String,
    /// The case it came from.
    pub case_id: Option<Uuid>,
    pub parties: Vec<PartyBody>,
}

/// 422 naming every field of `body` that needs no database to refuse.
pub fn check_body(body: &DisputeBody) -> ApiResult<()> {
    let mut errors = Vec::new();
    let mut push = |field: String, message: &str| {
        errors.push(FieldError {
            field,
            message: message.into(),
        });
    };
    if body.summary.trim().is_empty() || body.summary.chars().count() > 2000 {
        push("summary".into(), "1 to 2000 characters");
    }
    if body.grid_id.is_none() && body.community_id.is_none() {
        push("grid_id".into(), "give grid_id or community_id");
    }
    if body.level == Some(Level::Grid) && body.grid_id.is_none() {
        push("level".into(), "a grid-level dispute names its grid");
    }
    if body.parties.is_empty() || body.parties.len() > 20 {
        push("parties".into(), "1 to 20 parties");
    }
    for (i, party) in body.parties.iter().enumerate() {
        match (&party.resident_id, &party.name) {
            (Some(_), Some(_)) => push(
                format!("parties[{i}].name"),
                "a resident's name comes from the registry",
            ),
            (None, None) => push(format!("parties[{i}].name"), "give a resident_id or a name"),
            (None, Some(n)) if n.trim().is_empty() || n.chars().count() > 100 => {
                push(format!("parties[{i}].name"), "1 to 100 characters");
            }
            _ => {}
        }
        if let Some(phone) = &party.phone
            && onegrid_domain::identity::normalize_phone(phone).is_none()
        {
            push(format!("parties[{i}].phone"), "not a phone number");
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::fields(errors))
    }
}

/// Records `body` as `p` at the proven place `at` (a grid or a community).
pub async fn record(
    c: &mut Conn,
    p: &Principal,
    keys: &FieldKeys,
    (at, now): (Target, DateTime<Utc>),
    body: DisputeBody,
) -> ApiResult<Dispute> {
    let (street, community, grid) = (
        at.street.unwrap_or_default(),
        at.community.unwrap_or_default(),
        at.grid,
    );
    let level = body.level.unwrap_or(if grid.is_some() {
        Level::Grid
    } else {
        Level::Community
    });
    if let Some(case_id) = body.case_id {
        let case = cases::get_case(c, case_id)
            .await
            .map_err(reference("case_id"))?;
        if case.street_id != street {
            return Err(ApiError::new(
                Code::InvalidReference,
                "case_id is a case of another street",
            ));
        }
    }
    let parties = parties(c, p, body.parties).await?;
    let new = NewDispute {
        district_id: p.district_id,
        street_id: street,
        community_id: community,
        grid_id: grid,
        kind: body.kind.as_str(),
        level,
        summary: body.summary.trim().to_owned(),
        case_id: body.case_id,
        parties,
        created_by: p.accountable_user(),
    };
    Ok(disputes::create(c, keys, new, now).await?)
}

/// The parties to record: residents found in the registry and readable by
/// `p`, the others by name.
async fn parties(c: &mut Conn, p: &Principal, bodies: Vec<PartyBody>) -> ApiResult<Vec<NewParty>> {
    let mut parties = Vec::with_capacity(bodies.len());
    for (i, party) in bodies.into_iter().enumerate() {
        let phone = party
            .phone
            .as_deref()
            .and_then(onegrid_domain::identity::normalize_phone);
        let new = match party.resident_id {
            Some(r) => {
                let field = format!("parties[{i}].resident_id");
                let resident = households::get_resident(c, r)
                    .await
                    .map_err(reference(&field))?;
                crate::cases::service::readable(c, p, resident.grid_id, &field).await?;
                NewParty {
                    role: party.role.as_str(),
                    kind: "resident",
                    resident_id: Some(resident.id),
                    name: resident.name,
                    phone,
                }
            }
            None => NewParty {
                role: party.role.as_str(),
                kind: if party.organisation {
                    "organisation"
                } else {
                    "person"
                },
                resident_id: None,
                name: party.name.unwrap_or_default().trim().to_owned(),
                phone,
            },
        };
        parties.push(new);
    }
    Ok(parties)
}

/// Why a phone is revealed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisputeRevealBody {
    /// Recorded in the audit log (at least 4 characters).
    pub purpose: String,
}

/// A revealed phone.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartyRevealed {
    pub party_id: Uuid,
    pub phone: Option<String>,
}

/// Which phone is revealed, why, and under which request.
#[derive(Debug, Clone)]
pub struct Reveal {
    pub party_id: Uuid,
    pub purpose: String,
    pub request_id: String,
}

/// Reveals the phone of a party of `d` to `p`, taking one of their reveals
/// from `quota` and auditing who, why and which party (never the number).
pub async fn reveal(
    c: &mut Conn,
    p: &Principal,
    (keys, quota): (&FieldKeys, &RevealQuota),
    d: &Dispute,
    cmd: Reveal,
) -> ApiResult<PartyRevealed> {
    let party = disputes::parties(c, d)
        .await?
        .into_iter()
        .find(|x| x.id == cmd.party_id)
        .ok_or(StoreError::NotFound)?;
    quota.take(c, p.id(), p.now).await?;
    let phone = party
        .phone(keys)
        .map_err(|e| ApiError::new(Code::Internal, format!("cannot open phone: {e}")))?;
    let event = audit::Event {
        street_id: Some(d.street_id),
        action: "dispute.party_reveal",
        subject_type: "dispute_party",
        subject_id: Some(party.id),
        field: Some("phone"),
        purpose: Some(&cmd.purpose),
        request_id: &cmd.request_id,
        details: serde_json::json!({"dispute_id": d.id}),
    };
    audit::record(c, p, event).await?;
    Ok(PartyRevealed {
        party_id: party.id,
        phone,
    })
}

/// A dispute step the dispute's state refuses, as the problem to answer.
pub fn refused(r: Refused) -> ApiError {
    match r {
        Refused::Version(current) => StoreError::VersionMismatch { current }.into(),
        Refused::Status(s) => {
            ApiError::new(Code::Conflict, format!("not while the dispute is {s}"))
        }
        Refused::Top => ApiError::new(
            Code::Conflict,
            "the dispute is already at the mediation centre, the top of the ladder",
        ),
    }
}
