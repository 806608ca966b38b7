//! How work comes in and how a service is delivered: the three channels of
//! the article (面对面, 背对背, 网对网) and the other sources of cases, and
//! the five service modes (五种方式).

crate::state_enum! {
    /// How a case came in (三条途径, and the other sources of work).
    pub enum Channel {
        /// 面对面: staff file on the resident's behalf.
        FaceToFace => "face_to_face",
        /// 背对背: the suggestion box; the reporter's identity is sealed.
        SuggestionBox => "suggestion_box",
        /// 网对网: a resident through an integrator's app (API keys only).
        App => "app",
        /// A grid worker's patrol finding.
        Patrol => "patrol",
        /// A needs-meeting decision.
        Meeting => "meeting",
        /// A 12345 hotline ticket.
        Hotline => "hotline",
    }
}

crate::state_enum! {
    /// How the service is delivered (五种方式).
    pub enum ServiceMode {
        /// 上门.
        HomeVisit => "home_visit",
        /// 预约.
        Appointment => "appointment",
        /// 代办.
        Proxy => "proxy",
        /// 错时.
        OffHours => "off_hours",
        /// 打包.
        Bundled => "bundled",
    }
}
