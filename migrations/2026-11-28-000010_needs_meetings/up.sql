-- The half-monthly resident needs meeting (居民问需会): scheduled per
-- community (a schedule that fires a few days ahead, so the agenda is
-- compiled and the attendees reminded before the day), its agenda compiled
-- from open needs, untracked patrol findings, overdue cases and the last
-- meeting's items for report-back.

-- A schedule may fire ahead of the instant its rule names.
ALTER TABLE schedules ADD COLUMN lead_minutes integer NOT NULL DEFAULT 0
    CHECK (lead_minutes BETWEEN 0 AND 43200);

CREATE TABLE needs_meetings (
    street_id uuid NOT NULL,
    id uuid NOT NULL,
    district_id uuid NOT NULL REFERENCES districts (id),
    community_id uuid NOT NULL,
    -- The meeting's time (the schedule's fire instant): one meeting per instant.
    scheduled_for timestamptz NOT NULL,
    status text NOT NULL CHECK (status IN ('planned', 'held', 'closed')),
    previous_id uuid,
    minutes text CHECK (length(minutes) <= 20000),
    held_at timestamptz,
    closed_at timestamptz,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (street_id, id),
    UNIQUE (street_id, community_id, scheduled_for),
    FOREIGN KEY (street_id, community_id) REFERENCES communities (street_id, id),
    FOREIGN KEY (street_id, previous_id) REFERENCES needs_meetings (street_id, id)
);
CREATE UNIQUE INDEX needs_meetings_id ON needs_meetings (id);

-- The agenda, compiled by the worker before the meeting.
CREATE TABLE meeting_agenda_items (
    street_id uuid NOT NULL,
    meeting_id uuid NOT NULL,
    seq integer NOT NULL,
    kind text NOT NULL CHECK (kind IN ('unowned_need', 'untracked_finding', 'overdue_case', 'report_back')),
    case_id uuid,
    finding_id uuid,
    title text NOT NULL,
    PRIMARY KEY (street_id, meeting_id, seq),
    FOREIGN KEY (street_id, meeting_id) REFERENCES needs_meetings (street_id, id),
    FOREIGN KEY (street_id, case_id) REFERENCES cases (street_id, id),
    FOREIGN KEY (street_id, finding_id) REFERENCES patrol_findings (street_id, id),
    CHECK ((case_id IS NULL) <> (finding_id IS NULL))
);

-- Each decision becomes a service item (项目服务清单): a case with an owner
-- and a due date, reported back at the next meeting.
CREATE TABLE meeting_items (
    street_id uuid NOT NULL,
    meeting_id uuid NOT NULL,
    case_id uuid NOT NULL,
    owner_id uuid NOT NULL REFERENCES users (id),
    due_on date NOT NULL,
    PRIMARY KEY (street_id, case_id),
    FOREIGN KEY (street_id, meeting_id) REFERENCES needs_meetings (street_id, id),
    FOREIGN KEY (street_id, case_id) REFERENCES cases (street_id, id)
);
CREATE INDEX meeting_items_meeting ON meeting_items (street_id, meeting_id);

-- The community's member units of the joint party committee (联合党委):
-- enterprises, institutions, social organisations that sit in its meetings.
CREATE TABLE member_units (
    street_id uuid NOT NULL,
    id uuid NOT NULL,
    community_id uuid NOT NULL,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    kind text NOT NULL CHECK (kind IN ('enterprise', 'institution', 'social_org', 'party_org', 'other')),
    contact_name text CHECK (length(contact_name) <= 50),
    created_at timestamptz NOT NULL,
    PRIMARY KEY (street_id, id),
    UNIQUE (street_id, community_id, name),
    FOREIGN KEY (street_id, community_id) REFERENCES communities (street_id, id)
);
CREATE UNIQUE INDEX member_units_id ON member_units (id);

-- Who came: member units of the joint party committee, department grid
-- workers, volunteers, residents' representatives, staff.
CREATE TABLE meeting_attendees (
    street_id uuid NOT NULL,
    id uuid NOT NULL,
    meeting_id uuid NOT NULL,
    kind text NOT NULL CHECK (kind IN ('member_unit', 'department', 'volunteer', 'resident_rep', 'staff')),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    member_unit_id uuid,
    PRIMARY KEY (street_id, id),
    FOREIGN KEY (street_id, meeting_id) REFERENCES needs_meetings (street_id, id),
    FOREIGN KEY (street_id, member_unit_id) REFERENCES member_units (street_id, id),
    CHECK (member_unit_id IS NULL OR kind = 'member_unit')
);

-- Attendees rate each reported-back item (10/8/6/3/0).
CREATE TABLE report_back_ratings (
    street_id uuid NOT NULL,
    id uuid NOT NULL,
    meeting_id uuid NOT NULL,
    case_id uuid NOT NULL,
    rater text NOT NULL CHECK (length(rater) BETWEEN 1 AND 100),
    score smallint NOT NULL CHECK (score IN (10, 8, 6, 3, 0)),
    at timestamptz NOT NULL,
    PRIMARY KEY (street_id, id),
    UNIQUE (street_id, meeting_id, case_id, rater),
    FOREIGN KEY (street_id, meeting_id) REFERENCES needs_meetings (street_id, id),
    FOREIGN KEY (street_id, case_id) REFERENCES cases (street_id, id)
);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['needs_meetings', 'meeting_agenda_items', 'meeting_items', 'meeting_attendees',
        'member_units', 'report_back_ratings']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY wall ON %I USING (street_id = ANY ((SELECT og_streets())::uuid[]))', t);
    END LOOP;
END
$$;
GRANT SELECT, INSERT, UPDATE ON needs_meetings TO onegrid_app;
GRANT SELECT, INSERT ON meeting_agenda_items, meeting_items, meeting_attendees, member_units,
    report_back_ratings TO onegrid_app;
