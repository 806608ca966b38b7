//! Filing a case, the use case on domain types: `POST /cases`, a patrol
//! finding turned into a case and a needs-meeting decision all file through
//! [`file`]. It knows no HTTP: no extractor, no request, no response.

use chrono::{DateTime, Utc};
use onegrid_domain::cases::Kind;
use onegrid_domain::channels::{Channel, ServiceMode};
use onegrid_domain::geo::{self, Point};
use onegrid_domain::ledger::check_record;
use onegrid_domain::permissions::Action;
use onegrid_domain::sla::Tier;
use onegrid_store::cases::Actor;
use onegrid_store::cases::setup;
use onegrid_store::cases::{self, Case, Clocks, NewCase};
use onegrid_store::crypto::FieldKeys;
use onegrid_store::scope::Actor as PrincipalActor;
use onegrid_store::targets;
use onegrid_store::{Conn, Principal, ledgers, registry::hierarchy, registry::households};
use uuid::Uuid;

use crate::http::error::{ApiError, ApiResult, Code, FieldError, reference};

/// The actor of a principal, for events.
pub fn actor(p: &Principal) -> Actor {
    match p.actor {
        PrincipalActor::User { user_id, .. } => Actor {
            id: user_id,
            kind: "user",
        },
        PrincipalActor::ApiKey { key_id, .. } => Actor {
            id: key_id,
            kind: "api_key",
        },
    }
}

/// A case to file.
#[derive(Debug)]
pub struct Filing {
    pub channel: Channel,
    pub category_id: Uuid,
    pub title: String,
    pub description: String,
    /// The grid; else the grid whose boundary holds `location`, else the
    /// grid of the resident or household concerned.
    pub grid_id: Option<Uuid>,
    pub location: Option<Point>,
    pub address: Option<String>,
    /// The category's extra fields.
    pub extra: serde_json::Map<String, serde_json::Value>,
    pub service_mode: Option<ServiceMode>,
    /// Overrides the category's tier.
    pub tier: Option<Tier>,
    pub resident_id: Option<Uuid>,
    pub household_id: Option<Uuid>,
    pub ledger_record_ids: Vec<Uuid>,
    pub reporter_name: Option<String>,
    /// Already checked and normalised.
    pub reporter_phone: Option<String>,
    /// What the case comes from (a patrol finding, say), linked to it.
    pub links: Vec<(&'static str, Uuid)>,
}

impl Filing {
    /// A case a member of staff files from their own work (a patrol, a
    /// meeting): no reporter, no links to residents.
    pub fn by_staff(
        channel: Channel,
        category_id: Uuid,
        title: String,
        description: String,
        grid_id: Uuid,
    ) -> Filing {
        Filing {
            channel,
            category_id,
            title,
            description,
            grid_id: Some(grid_id),
            location: None,
            address: None,
            extra: serde_json::Map::new(),
            service_mode: None,
            tier: None,
            resident_id: None,
            household_id: None,
            ledger_record_ids: Vec::new(),
            reporter_name: None,
            reporter_phone: None,
            links: Vec::new(),
        }
    }
}

/// Which grid a new case belongs to: the given grid, the grid whose boundary
/// holds the location, or the grid of the resident or household concerned.
async fn route_to_grid(c: &mut Conn, f: &Filing) -> ApiResult<Uuid> {
    if let Some(g) = f.grid_id {
        return Ok(g);
    }
    if let Some(pt) = f.location {
        let found = hierarchy::grid_boundaries(c)
            .await?
            .into_iter()
            .find(|(_, b)| geo::contains(b, pt.lon, pt.lat));
        return found
            .map(|(id, _)| id)
            .ok_or_else(|| ApiError::field("location", "no grid of yours contains this point"));
    }
    if let Some(r) = f.resident_id {
        return Ok(households::get_resident(c, r)
            .await
            .map_err(reference("resident_id"))?
            .grid_id);
    }
    if let Some(h) = f.household_id {
        return Ok(households::get_household(c, h)
            .await
            .map_err(reference("household_id"))?
            .grid_id);
    }
    Err(ApiError::field(
        "grid_id",
        "give grid_id, a location inside a grid, or a resident or household",
    ))
}

/// The filing's own rules (lengths, ranges), every bad field at once.
pub fn check(f: &Filing) -> ApiResult<()> {
    let mut errors = Vec::new();
    let mut push = |field: &str, message: &str| {
        errors.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    };
    if f.title.trim().is_empty() || f.title.chars().count() > 200 {
        push("title", "1 to 200 characters");
    }
    if f.description.trim().is_empty() || f.description.chars().count() > 5000 {
        push("description", "1 to 5000 characters");
    }
    if f.address.as_ref().is_some_and(|a| a.chars().count() > 200) {
        push("address", "at most 200 characters");
    }
    if let Some(pt) = f.location
        && !((-180.0..=180.0).contains(&pt.lon) && (-90.0..=90.0).contains(&pt.lat))
    {
        push("location", "lon -180..180, lat -90..90");
    }
    if f.ledger_record_ids.len() > 20 {
        push("ledger_record_ids", "at most 20");
    }
    if f.reporter_name
        .as_ref()
        .is_some_and(|n| n.trim().is_empty() || n.chars().count() > 50)
    {
        push("reporter.name", "1 to 50 characters");
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::fields(errors))
    }
}

/// Files a case for `p` in the caller's transaction: routing, permission,
/// category and extra fields, links, clocks.
pub async fn file(
    keys: &FieldKeys,
    c: &mut Conn,
    p: &Principal,
    f: Filing,
    now: DateTime<Utc>,
) -> ApiResult<Case> {
    let is_key = matches!(p.actor, PrincipalActor::ApiKey { .. });
    if f.channel == Channel::App && !is_key {
        return Err(ApiError::field(
            "channel",
            "app cases come from an integrator's API key",
        ));
    }
    let grid_id = route_to_grid(c, &f).await?;
    let grid = hierarchy::get_grid(c, grid_id)
        .await
        .map_err(reference("grid_id"))?;
    p.require(Action::CaseFile, &targets::grid(c, p, grid.id).await?)?;
    let category = setup::get_category(c, f.category_id)
        .await
        .map_err(reference("category_id"))?;
    if !category.active {
        return Err(ApiError::field("category_id", "this category is retired"));
    }
    let fields = category.field_defs();
    let extra = match check_record(&fields, &f.extra) {
        Ok(valid) => serde_json::to_value(valid.data).unwrap_or_default(),
        Err(invalid) => {
            return Err(ApiError::fields(
                invalid
                    .into_iter()
                    .map(|i| FieldError {
                        field: i.field.replacen("data.", "extra.", 1),
                        message: i.message,
                    })
                    .collect(),
            ));
        }
    };
    let mut links = f.links;
    if let Some(r) = f.resident_id {
        let resident = households::get_resident(c, r)
            .await
            .map_err(reference("resident_id"))?;
        readable(c, p, resident.grid_id, "resident_id").await?;
        links.push(("resident", resident.id));
    }
    if let Some(h) = f.household_id {
        let household = households::get_household(c, h)
            .await
            .map_err(reference("household_id"))?;
        readable(c, p, household.grid_id, "household_id").await?;
        links.push(("household", household.id));
    }
    for id in &f.ledger_record_ids {
        let record = ledgers::get_record(c, *id)
            .await
            .map_err(reference("ledger_record_ids"))?;
        if record.street_id != grid.street_id {
            return Err(ApiError::new(
                Code::InvalidReference,
                "ledger_record_ids does not exist in your scope",
            ));
        }
        links.push(("ledger_record", record.id));
    }
    let tier = f.tier.unwrap_or_else(|| category.tier());
    let calendar = setup::calendar(c, p.district_id).await?;
    let policy = setup::tier_policy(c, p.district_id, tier).await?;
    let new = NewCase {
        street_id: grid.street_id,
        district_id: p.district_id,
        community_id: grid.community_id,
        grid_id: grid.id,
        parent_id: None,
        kind: Kind::Case,
        channel: f.channel,
        category_id: category.id,
        tier,
        title: f.title,
        description: f.description,
        extra,
        address: f.address,
        location: f.location.map(|pt| (pt.lon, pt.lat)),
        service_mode: f.service_mode,
        resident_id: f.resident_id,
        reporter_name: f.reporter_name,
        reporter_phone: f.reporter_phone,
        links,
    };
    let clocks = Clocks {
        calendar: &calendar,
        policy,
        resolution: category.resolution(),
    };
    Ok(cases::file_case(c, keys, &clocks, new, actor(p), now).await?)
}

/// A linked resident or household must be one the caller may read (the
/// tenant wall already hides other streets; this keeps a grid worker to
/// their own grids), refused like a reference that does not exist.
pub async fn readable(c: &mut Conn, p: &Principal, grid_id: Uuid, field: &str) -> ApiResult<()> {
    let target = targets::grid(c, p, grid_id).await?;
    if p.can(Action::RegistryRead, &target) {
        Ok(())
    } else {
        Err(ApiError::new(
            Code::InvalidReference,
            format!("{field} does not exist in your scope"),
        ))
    }
}
