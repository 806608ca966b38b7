-- Resident needs as cases: the working calendar and SLA tiers of each
-- district, the category catalogue, cases with their append-only event
-- history, their SLA clocks (stored so the worker can act on them) and links
-- to residents, households and ledger records.

-- The district's working calendar: exceptions to Monday-to-Friday (holidays
-- and adjusted workdays 调休), loaded as data.
CREATE TABLE calendar_days (
    district_id uuid NOT NULL REFERENCES districts (id),
    day date NOT NULL,
    kind text NOT NULL CHECK (kind IN ('holiday', 'workday')),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 50),
    PRIMARY KEY (district_id, day)
);

-- The district's clocks per tier (defaults from the domain guide, editable).
CREATE TABLE sla_tiers (
    district_id uuid NOT NULL REFERENCES districts (id),
    tier text NOT NULL CHECK (tier IN ('emergency', 'utility', 'general', 'complex')),
    response_basis text NOT NULL CHECK (response_basis IN ('calendar', 'working')),
    response_minutes integer NOT NULL CHECK (response_minutes BETWEEN 1 AND 525600),
    resolution_basis text NOT NULL CHECK (resolution_basis IN ('calendar', 'working')),
    resolution_minutes integer NOT NULL CHECK (resolution_minutes BETWEEN 1 AND 525600),
    version integer NOT NULL DEFAULT 1,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (district_id, tier)
);

-- The category catalogue: hierarchical codes (01, 01.02, 01.02.03), a default
-- tier, extra fields (ledger field definitions), an optional resolution clock
-- and staged milestones.
CREATE TABLE case_categories (
    id uuid PRIMARY KEY,
    district_id uuid NOT NULL REFERENCES districts (id),
    code text NOT NULL CHECK (code ~ '^[0-9]{2}(\.[0-9]{2}){0,2}$'),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    tier text NOT NULL CHECK (tier IN ('emergency', 'utility', 'general', 'complex')),
    fields jsonb NOT NULL DEFAULT '[]',
    resolution_basis text CHECK (resolution_basis IN ('calendar', 'working')),
    resolution_minutes integer CHECK (resolution_minutes BETWEEN 1 AND 525600),
    milestones jsonb NOT NULL DEFAULT '[]',
    active boolean NOT NULL DEFAULT true,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (district_id, code),
    UNIQUE (district_id, id),
    CHECK ((resolution_basis IS NULL) = (resolution_minutes IS NULL))
);

CREATE SEQUENCE case_numbers;

CREATE TABLE cases (
    street_id uuid NOT NULL,
    id uuid NOT NULL,
    number bigint NOT NULL DEFAULT nextval('case_numbers'),
    district_id uuid NOT NULL,
    community_id uuid NOT NULL,
    grid_id uuid NOT NULL,
    parent_id uuid,
    kind text NOT NULL DEFAULT 'case' CHECK (kind IN ('case', 'task', 'bundle')),
    channel text NOT NULL CHECK (channel IN ('face_to_face', 'suggestion_box', 'app', 'patrol', 'meeting', 'hotline')),
    category_id uuid NOT NULL,
    tier text NOT NULL CHECK (tier IN ('emergency', 'utility', 'general', 'complex')),
    title text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description text NOT NULL CHECK (length(description) BETWEEN 1 AND 5000),
    extra jsonb NOT NULL DEFAULT '{}',
    address text CHECK (length(address) <= 200),
    lon double precision CHECK (lon BETWEEN -180 AND 180),
    lat double precision CHECK (lat BETWEEN -90 AND 90),
    service_mode text CHECK (service_mode IN ('home_visit', 'appointment', 'proxy', 'off_hours', 'bundled')),
    status text NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'accepted', 'rejected', 'dispatched',
        'in_progress', 'result_submitted', 'verified', 'resolved', 'parked', 'closed')),
    paused boolean NOT NULL DEFAULT false,
    extension_requested boolean NOT NULL DEFAULT false,
    park_requested boolean NOT NULL DEFAULT false,
    -- 0 grid, 1 community, 2 street, 3 departments.
    escalation_level smallint NOT NULL DEFAULT 0 CHECK (escalation_level BETWEEN 0 AND 3),
    assignee_user_id uuid REFERENCES users (id),
    assignee_department_id uuid,
    resident_id uuid,
    rework_cycle smallint NOT NULL DEFAULT 0,
    resolved_at timestamptz,
    closed_at timestamptz,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (street_id, id),
    UNIQUE (street_id, number),
    FOREIGN KEY (district_id) REFERENCES districts (id),
    FOREIGN KEY (street_id, community_id) REFERENCES communities (street_id, id),
    FOREIGN KEY (street_id, grid_id) REFERENCES grids (street_id, id),
    FOREIGN KEY (street_id, parent_id) REFERENCES cases (street_id, id),
    FOREIGN KEY (street_id, resident_id) REFERENCES residents (street_id, id),
    FOREIGN KEY (district_id, category_id) REFERENCES case_categories (district_id, id),
    FOREIGN KEY (district_id, assignee_department_id) REFERENCES departments (district_id, id)
);
CREATE INDEX cases_grid ON cases (street_id, grid_id, status, id);
CREATE INDEX cases_community ON cases (street_id, community_id, id);
CREATE INDEX cases_assignee ON cases (street_id, assignee_user_id, status, id) WHERE assignee_user_id IS NOT NULL;
CREATE INDEX cases_department ON cases (assignee_department_id, status, id) WHERE assignee_department_id IS NOT NULL;
CREATE INDEX cases_parent ON cases (street_id, parent_id) WHERE parent_id IS NOT NULL;

-- Every department a case was ever routed to: department staff see those
-- cases (and work them while the case is with them).
CREATE TABLE case_routes (
    street_id uuid NOT NULL,
    case_id uuid NOT NULL,
    department_id uuid NOT NULL,
    routed_at timestamptz NOT NULL,
    PRIMARY KEY (street_id, case_id, department_id),
    FOREIGN KEY (street_id, case_id) REFERENCES cases (street_id, id)
);
CREATE INDEX case_routes_department ON case_routes (department_id, case_id);

-- Who reported a case: name and phone sealed (AES-GCM bound to the case row
-- and street); for the suggestion box the identity is never shown to handlers.
CREATE TABLE case_reporters (
    street_id uuid NOT NULL,
    case_id uuid NOT NULL,
    name_enc bytea,
    phone_enc bytea,
    PRIMARY KEY (street_id, case_id),
    FOREIGN KEY (street_id, case_id) REFERENCES cases (street_id, id)
);

-- The resident's rating (好差评) of each handling cycle (a bad rating reopens
-- the case; the rework is rated again).
CREATE TABLE case_ratings (
    street_id uuid NOT NULL,
    case_id uuid NOT NULL,
    cycle smallint NOT NULL,
    score smallint NOT NULL CHECK (score IN (10, 8, 6, 3, 0)),
    comment text CHECK (length(comment) <= 500),
    rated_by uuid NOT NULL,
    rated_by_kind text NOT NULL CHECK (rated_by_kind IN ('user', 'api_key')),
    rated_at timestamptz NOT NULL,
    PRIMARY KEY (street_id, case_id, cycle),
    FOREIGN KEY (street_id, case_id) REFERENCES cases (street_id, id)
);

-- The history of a case: one row per step, never edited.
CREATE TABLE case_events (
    street_id uuid NOT NULL,
    id uuid NOT NULL,
    case_id uuid NOT NULL,
    seq integer NOT NULL CHECK (seq >= 1),
    step text NOT NULL,
    from_status text,
    to_status text NOT NULL,
    actor_id uuid NOT NULL,
    actor_kind text NOT NULL CHECK (actor_kind IN ('user', 'api_key', 'system')),
    reason text CHECK (length(reason) <= 1000),
    data jsonb NOT NULL DEFAULT '{}',
    at timestamptz NOT NULL,
    PRIMARY KEY (street_id, id),
    UNIQUE (street_id, case_id, seq),
    FOREIGN KEY (street_id, case_id) REFERENCES cases (street_id, id)
);

CREATE FUNCTION og_case_events_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'case_events is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER case_events_append_only BEFORE UPDATE OR DELETE ON case_events
    FOR EACH ROW EXECUTE FUNCTION og_case_events_append_only();
CREATE TRIGGER case_events_no_truncate BEFORE TRUNCATE ON case_events
    FOR EACH STATEMENT EXECUTE FUNCTION og_case_events_append_only();

-- The clocks of a case. The worker reads warn/due instants of running clocks
-- (stopped_at IS NULL AND paused_at IS NULL); a clock cycle is unique, so a
-- rework starts a new row rather than rewriting the old one.
CREATE TABLE case_clocks (
    street_id uuid NOT NULL,
    id uuid NOT NULL,
    case_id uuid NOT NULL,
    kind text NOT NULL CHECK (kind IN ('response', 'resolution', 'milestone', 'rework')),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    cycle smallint NOT NULL DEFAULT 0,
    basis text NOT NULL CHECK (basis IN ('calendar', 'working')),
    budget_minutes integer NOT NULL CHECK (budget_minutes > 0),
    started_at timestamptz NOT NULL,
    paused_at timestamptz,
    paused_minutes integer NOT NULL DEFAULT 0 CHECK (paused_minutes >= 0),
    extended_minutes integer NOT NULL DEFAULT 0 CHECK (extended_minutes >= 0),
    warn_50_at timestamptz NOT NULL,
    warn_75_at timestamptz NOT NULL,
    due_at timestamptz NOT NULL,
    stopped_at timestamptz,
    outcome text CHECK (outcome IN ('met', 'breached')),
    PRIMARY KEY (street_id, id),
    UNIQUE (street_id, case_id, kind, name, cycle),
    FOREIGN KEY (street_id, case_id) REFERENCES cases (street_id, id),
    CHECK ((stopped_at IS NULL) = (outcome IS NULL))
);
CREATE INDEX case_clocks_running ON case_clocks (due_at) WHERE stopped_at IS NULL;

-- What a case concerns: residents, households, ledger records of its street.
CREATE TABLE case_links (
    street_id uuid NOT NULL,
    case_id uuid NOT NULL,
    subject_type text NOT NULL CHECK (subject_type IN ('resident', 'household', 'ledger_record')),
    subject_id uuid NOT NULL,
    PRIMARY KEY (street_id, case_id, subject_type, subject_id),
    FOREIGN KEY (street_id, case_id) REFERENCES cases (street_id, id)
);

-- Photos and documents of a case; the bytes live in the blob store under
-- street/case/id, the row keeps their type, size and SHA-256.
CREATE TABLE case_attachments (
    street_id uuid NOT NULL,
    id uuid NOT NULL,
    case_id uuid NOT NULL,
    file_name text NOT NULL CHECK (length(file_name) BETWEEN 1 AND 100),
    content_type text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp', 'application/pdf')),
    size_bytes integer NOT NULL CHECK (size_bytes > 0),
    sha256 bytea NOT NULL,
    uploaded_by uuid NOT NULL,
    uploaded_at timestamptz NOT NULL,
    PRIMARY KEY (street_id, id),
    FOREIGN KEY (street_id, case_id) REFERENCES cases (street_id, id)
);
CREATE INDEX case_attachments_case ON case_attachments (street_id, case_id);

-- Appointment slots a community (or one of its grids) offers for 预约 and
-- 错时 services; off_hours is derived from the working calendar.
CREATE TABLE appointment_slots (
    street_id uuid NOT NULL,
    id uuid NOT NULL,
    community_id uuid NOT NULL,
    grid_id uuid,
    starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL,
    capacity smallint NOT NULL CHECK (capacity BETWEEN 1 AND 100),
    booked smallint NOT NULL DEFAULT 0,
    off_hours boolean NOT NULL,
    place text CHECK (length(place) <= 200),
    created_by uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (street_id, id),
    CHECK (ends_at > starts_at),
    CHECK (booked BETWEEN 0 AND capacity),
    FOREIGN KEY (street_id, community_id) REFERENCES communities (street_id, id),
    FOREIGN KEY (street_id, grid_id) REFERENCES grids (street_id, id)
);
CREATE INDEX appointment_slots_community ON appointment_slots (street_id, community_id, starts_at);

-- A case's bookings; at most one active per case.
CREATE TABLE case_appointments (
    street_id uuid NOT NULL,
    id uuid NOT NULL,
    case_id uuid NOT NULL,
    slot_id uuid NOT NULL,
    booked_by uuid NOT NULL,
    booked_at timestamptz NOT NULL,
    cancelled_at timestamptz,
    PRIMARY KEY (street_id, id),
    FOREIGN KEY (street_id, case_id) REFERENCES cases (street_id, id),
    FOREIGN KEY (street_id, slot_id) REFERENCES appointment_slots (street_id, id)
);
CREATE UNIQUE INDEX case_appointments_active ON case_appointments (street_id, case_id) WHERE cancelled_at IS NULL;

-- Department staff see only the cases routed to their department.
CREATE FUNCTION og_departments() RETURNS uuid[]
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT coalesce(string_to_array(nullif(current_setting('app.department_ids', true), ''), ',')::uuid[], '{}'::uuid[]) $$;
CREATE FUNCTION og_department_only() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT coalesce(current_setting('app.department_only', true), '') = 'on' $$;

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['calendar_days', 'sla_tiers', 'case_categories', 'cases', 'case_events', 'case_clocks',
        'case_links', 'case_reporters', 'case_ratings', 'case_routes', 'appointment_slots', 'case_appointments',
        'case_attachments']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    END LOOP;
END
$$;

CREATE POLICY wall ON calendar_days USING (district_id = og_district());
CREATE POLICY wall ON sla_tiers USING (district_id = og_district());
CREATE POLICY wall ON case_categories USING (district_id = og_district());
CREATE POLICY wall ON case_routes USING (street_id = ANY (og_streets())
    AND (NOT og_department_only() OR department_id = ANY (og_departments())));
CREATE POLICY wall ON cases USING (street_id = ANY (og_streets())
    AND (NOT og_department_only() OR EXISTS (SELECT 1 FROM case_routes r
        WHERE r.street_id = cases.street_id AND r.case_id = cases.id)));
CREATE POLICY wall ON case_events USING (street_id = ANY (og_streets())
    AND (NOT og_department_only() OR EXISTS (SELECT 1 FROM cases c
        WHERE c.street_id = case_events.street_id AND c.id = case_events.case_id)));
CREATE POLICY wall ON case_clocks USING (street_id = ANY (og_streets())
    AND (NOT og_department_only() OR EXISTS (SELECT 1 FROM cases c
        WHERE c.street_id = case_clocks.street_id AND c.id = case_clocks.case_id)));
CREATE POLICY wall ON case_reporters USING (street_id = ANY (og_streets())
    AND (NOT og_department_only() OR EXISTS (SELECT 1 FROM cases c
        WHERE c.street_id = case_reporters.street_id AND c.id = case_reporters.case_id)));
CREATE POLICY wall ON case_ratings USING (street_id = ANY (og_streets())
    AND (NOT og_department_only() OR EXISTS (SELECT 1 FROM cases c
        WHERE c.street_id = case_ratings.street_id AND c.id = case_ratings.case_id)));
CREATE POLICY wall ON appointment_slots USING (street_id = ANY (og_streets()));
CREATE POLICY wall ON case_appointments USING (street_id = ANY (og_streets())
    AND (NOT og_department_only() OR EXISTS (SELECT 1 FROM cases c
        WHERE c.street_id = case_appointments.street_id AND c.id = case_appointments.case_id)));
CREATE POLICY wall ON case_attachments USING (street_id = ANY (og_streets())
    AND (NOT og_department_only() OR EXISTS (SELECT 1 FROM cases c
        WHERE c.street_id = case_attachments.street_id AND c.id = case_attachments.case_id)));
CREATE POLICY wall ON case_links USING (street_id = ANY (og_streets())
    AND (NOT og_department_only() OR EXISTS (SELECT 1 FROM cases c
        WHERE c.street_id = case_links.street_id AND c.id = case_links.case_id)));

GRANT SELECT, INSERT, UPDATE, DELETE ON calendar_days TO onegrid_app;
GRANT SELECT, INSERT, UPDATE ON sla_tiers, case_categories, cases, case_clocks, appointment_slots,
    case_appointments TO onegrid_app;
GRANT SELECT, INSERT ON case_events, case_links, case_reporters, case_ratings, case_routes, case_attachments
    TO onegrid_app;
GRANT USAGE ON SEQUENCE case_numbers TO onegrid_app;
