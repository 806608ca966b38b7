//! How work comes in and how a service is delivered: the three channels of
//! the article (面对面, 背对背, 网对网) and the other sources of cases, and
//! the five service modes (五种方式).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How a case came in (三条途径, and the other sources of work).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(
    feature = "diesel",
    derive(diesel::AsExpression, diesel::FromSqlRow),
    diesel(sql_type = diesel::sql_types::Text)
)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// 面对面: staff file on the resident's behalf.
    FaceToFace,
    /// 背对背: the suggestion box; the reporter's identity is sealed.
    SuggestionBox,
    /// 网对网: a resident through an integrator's app (API keys only).
    App,
    /// A grid worker's patrol finding.
    Patrol,
    /// A needs-meeting decision.
    Meeting,
    /// A 12345 hotline ticket.
    Hotline,
}

crate::stable_names!(Channel {
    FaceToFace => "face_to_face",
    SuggestionBox => "suggestion_box",
    App => "app",
    Patrol => "patrol",
    Meeting => "meeting",
    Hotline => "hotline",
});

/// How the service is delivered (五种方式).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(
    feature = "diesel",
    derive(diesel::AsExpression, diesel::FromSqlRow),
    diesel(sql_type = diesel::sql_types::Text)
)]
#[serde(rename_all = "snake_case")]
pub enum ServiceMode {
    /// 上门.
    HomeVisit,
    /// 预约.
    Appointment,
    /// 代办.
    Proxy,
    /// 错时.
    OffHours,
    /// 打包.
    Bundled,
}

crate::stable_names!(ServiceMode {
    HomeVisit => "home_visit",
    Appointment => "appointment",
    Proxy => "proxy",
    OffHours => "off_hours",
    Bundled => "bundled",
});
